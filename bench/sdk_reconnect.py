"""The JavaScript SDK's reconnect-to-resynced time against the local stack, and its bundle sizes.

Starts `python -m local.devserver` on free ports, then runs `clients/js/e2e/reconnect.mjs`: RUNS times
the gateway closes or cuts the SDK's socket while the customer's other device writes 3 messages; the
time runs from the SDK's `close` event to its `synced` event (history after_seq done, the 3 messages
in its timeline). Prints p50/max, then the minified and gzipped sizes of the bundles (esbuild).

    python -m bench.sdk_reconnect [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from local.devserver import free_port
from local.token import mint

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "clients" / "js"
PORTS = ("HTTP_PORT", "WS_PORT", "WS_MANAGEMENT_PORT", "MOTO_PORT", "FAKE_PLATFORMS_PORT", "WEB_PORT")


def start_stack() -> tuple[subprocess.Popen[str], dict[str, str]]:
    ports = {name: str(free_port()) for name in PORTS}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | ports | {"PYTHONUNBUFFERED": "1",
                                                                                        "BOT_SAMPLE_KB": "none"}
    process = subprocess.Popen([sys.executable, "-m", "local.devserver"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    assert process.stdout is not None
    for line in process.stdout:
        if "ready" in line:
            return process, ports
        if time.time() > deadline:
            break
    process.kill()
    raise SystemExit("the local stack did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    node = shutil.which("node") or sys.exit("node (20 or newer) is needed")
    process, ports = start_stack()
    try:
        subject = f"bench-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "WS_URL": f"ws://127.0.0.1:{ports['WS_PORT']}", "SUBJECT": subject,
               "CONTROL_URL": f"http://127.0.0.1:{ports['WS_MANAGEMENT_PORT']}", "RUNS": str(args.runs),
               "TOKEN": mint("customer", subject)}
        result = subprocess.run([node, str(SDK / "e2e" / "reconnect.mjs")], cwd=SDK, env=env, capture_output=True,
                                text=True, timeout=60 + 30 * args.runs, check=False)
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        process.terminate()
        process.wait(15)
    total, after_open = figures["close_to_resynced_ms"], figures["open_to_resynced_ms"]
    print(f"reconnect to resynced, {figures['runs']} runs (half closed, half cut; default backoff 250-500 ms first):")
    print(f"  close -> resynced  p50 {total['p50']} ms, max {total['max']} ms (min {total['min']} ms)")
    print(f"  open  -> resynced  p50 {after_open['p50']} ms, max {after_open['max']} ms")
    sizes = subprocess.run([node, str(SDK / "scripts" / "build.mjs"), "--sizes"], cwd=SDK, capture_output=True,
                           text=True, check=True)
    print("bundles:")
    for line in sizes.stdout.splitlines():
        print(f"  {line}")


if __name__ == "__main__":
    main()
