"""What browser tests share besides fixtures: the stack handle, screenshots, Chromium's flags."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "browser"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
INSTALL_HINT = ("Chromium is needed for the browser tests and was not found at {path}. Install Debian's "
                "packages as root: `apt-get update && apt-get install -y chromium chromium-driver` "
                "(.ci/run does this), or point CHROMIUM at a Chromium binary.")


@dataclass
class BrowserStack:
    http: str
    ws: str
    web: str
    output: list[str] = field(repr=False)
    control: str = ""  # the gateway's management server: `/_control/drop` cuts sockets (local/gateway.py)

    def wait_for_output(self, text: str, timeout: float = 180) -> str:
        """The first printed line containing `text`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                if text in line:
                    return line
            time.sleep(0.2)
        raise AssertionError(f"the local stack did not print {text!r} within {timeout:.0f} s:\n"
                             + "".join(self.output[-40:]))


class Screenshots:
    def __init__(self, folder: Path, page: Any) -> None:
        self.folder = folder
        self.page = page
        self.count = 0

    def step(self, name: str, page: Any = None) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "step"
        path = self.folder / f"{self.count:02d}-{slug}.png"
        (page or self.page).screenshot(path=str(path))
        return path
