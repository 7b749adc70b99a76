"""Starts the real local stack (`python -m local.devserver`, as `make dev` does) on free ports."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    http: str
    ws: str
    output: list[str]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Stack]:
    ports = {name: str(_free_port()) for name in ("HTTP_PORT", "WS_PORT", "WS_MANAGEMENT_PORT", "MOTO_PORT",
                                                  "FAKE_PLATFORMS_PORT")}  # channels: the fake platform APIs
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(ports, PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "local.devserver"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + 120
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            process.kill()
            pytest.fail("local stack did not print 'ready' within 120 s:\n" + "".join(output))
        if "ready" in line:
            break
        if process.poll() is not None:
            pytest.fail("local stack exited:\n" + "".join(output))
    yield Stack(http=f"http://127.0.0.1:{ports['HTTP_PORT']}", ws=f"ws://127.0.0.1:{ports['WS_PORT']}",
                output=output)
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
