"""The console's first load on a local stack: bytes fetched and time to interactive, in headless Chromium.

    .venv/bin/python -m bench.console_load --web http://127.0.0.1:8080/ [--runs 5]

Each run uses a fresh browser context (cold cache). "Sign-in interactive" is from navigation start to
the "Sign in" button being usable; "workspace interactive" from clicking "Sign in" (user amy) to the
"Go online" button; bytes are the resources' encoded sizes (the local server does not compress;
gzip sizes are what CloudFront serves with compression on). Dashboard: Chart.js loads on that page only.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def gzip_size(paths: list[Path]) -> int:
    return sum(len(gzip.compress(p.read_bytes(), 9)) for p in paths)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--web", default="http://127.0.0.1:8080/")
    parser.add_argument("--user", default="amy")
    parser.add_argument("--password", default="Desk-Local-2026")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    signin_ms, work_ms, signin_bytes, work_bytes = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
        for _ in range(args.runs):
            context = browser.new_context()
            page = context.new_page()
            sizes: dict[str, int] = {}

            def record(response: Any, sizes: dict[str, int] = sizes) -> None:
                if response.ok and ("/console" in response.url or response.url.endswith("config.json")):
                    sizes[response.url] = len(response.body())

            page.on("response", record)
            started = time.perf_counter()
            page.goto(args.web + "console/")
            page.get_by_role("button", name="Sign in").wait_for()
            signin_ms.append((time.perf_counter() - started) * 1000)
            signin_bytes.append(sum(sizes.values()))
            page.get_by_label("Username").fill(args.user)
            page.get_by_label("Password").fill(args.password)
            started = time.perf_counter()
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("button", name="Go online").wait_for()
            work_ms.append((time.perf_counter() - started) * 1000)
            work_bytes.append(sum(sizes.values()))
            context.close()
        browser.close()
    console = ROOT / "clients" / "console"
    app_files = [console / "index.html", console / "console.css", *sorted((console / "js").glob("*.js"))]
    chart = console / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
    print(f"sign-in page interactive: median {statistics.median(signin_ms):.0f} ms (min {min(signin_ms):.0f}, "
          f"max {max(signin_ms):.0f}), {statistics.median(signin_bytes) / 1024:.1f} KiB fetched")
    print(f"workspace interactive after 'Sign in': median {statistics.median(work_ms):.0f} ms "
          f"(min {min(work_ms):.0f}, max {max(work_ms):.0f}); {statistics.median(work_bytes) / 1024:.1f} KiB in all")
    print(f"console code (html, css, js): {sum(p.stat().st_size for p in app_files) / 1024:.1f} KiB, "
          f"{gzip_size(app_files) / 1024:.1f} KiB gzipped; Chart.js (dashboard only): "
          f"{chart.stat().st_size / 1024:.1f} KiB, {gzip_size([chart]) / 1024:.1f} KiB gzipped")


if __name__ == "__main__":
    main()
