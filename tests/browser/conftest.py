"""Browser tests: a local stack with its web server, headless Debian Chromium driven by Playwright.

Fixtures (use them from any test under tests/browser/):

- `browser_stack` (session): `python -m local.devserver` on free ports (what `make dev` runs), with
  `.http` (REST), `.ws` (WebSocket), `.web` (the web server, ending in `/`), `.control` (the gateway's
  management server, for `/_control/drop`), `.output` (its printed lines) and
  `.wait_for_output(text, timeout)`.
- `browser` (session): Chromium from `/usr/bin/chromium` (env `CHROMIUM` overrides), headless, with the
  flags this machine needs; Playwright gives every context a fresh profile. Missing Chromium fails
  the tests with how to install it; they are never skipped.
- `new_page()`: a page in a new browser context (own cookies and localStorage); `page`: one of them.
- `shots`: `shots.step("typed-question")` saves `test-output/browser/<test>/NN-typed-question.png`
  (NN counts up from 01); a failing test also gets a last `NN-failed.png`. `shots.step(name, page=p)`
  shoots another page.

Find controls as a person does: `page.get_by_role("button", name="Send")`, `get_by_label`, `get_by_text`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser_harness import CHROMIUM_FLAGS, INSTALL_HINT, OUTPUT, BrowserStack, Screenshots


@pytest.fixture(scope="session")
def browser_stack() -> Iterator[BrowserStack]:
    from support import run_local_stack

    for ports, output in run_local_stack(env={"GUEST_CHAT_ENABLED": "true"}):
        yield BrowserStack(http=f"http://127.0.0.1:{ports['HTTP_PORT']}", ws=f"ws://127.0.0.1:{ports['WS_PORT']}",
                           web=f"http://127.0.0.1:{ports['WEB_PORT']}/", output=output,
                           control=f"http://127.0.0.1:{ports['WS_MANAGEMENT_PORT']}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (Path(path).is_file() or shutil.which(path)):
        pytest.fail(INSTALL_HINT.format(path=path), pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def make(**context_options: Any) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, **context_options)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def shots(request: pytest.FixtureRequest, page: Any) -> Iterator[Screenshots]:
    folder = OUTPUT / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    screenshots = Screenshots(folder, page)
    yield screenshots
    if request.node.stash.get(_FAILED, False):
        with contextlib.suppress(Exception):  # the page may be gone; the failure itself is what matters
            screenshots.step("failed")
