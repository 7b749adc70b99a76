"""The local stack's web server in a real browser: the demo shop page and the page config."""

from __future__ import annotations

import json
from typing import Any

from browser_harness import BrowserStack, Screenshots


def test_demo_shop_page_opens_with_the_stack_config(browser_stack: BrowserStack, page: Any,
                                                    shots: Screenshots) -> None:
    page.goto(browser_stack.web)
    page.get_by_role("heading", name="Everyday things, made to last").wait_for()
    shots.step("demo shop opened")
    config = page.evaluate("fetch('/config.json').then(r => r.json())")
    assert config["api"] == browser_stack.http and config["ws"] == browser_stack.ws
    response = page.request.get(browser_stack.web + "console/")
    assert response.status in (200, 404)  # the console is served once clients/console/ exists
    assert json.loads(page.request.get(browser_stack.web + "../../etc/passwd").text() or "{}").get(
        "code", "not_found") == "not_found"
