"""Starts the real local stack (`python -m local.devserver`, as `make dev` does) on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass
class Stack:
    http: str
    ws: str
    output: list[str]
    control: str = ""  # -- clients: the gateway's management server (local/gateway.py `/_control/...`)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Stack]:
    from support import run_local_stack

    for ports, output in run_local_stack():
        yield Stack(http=f"http://127.0.0.1:{ports['HTTP_PORT']}", ws=f"ws://127.0.0.1:{ports['WS_PORT']}",
                    output=output, control=f"http://127.0.0.1:{ports['WS_MANAGEMENT_PORT']}")
