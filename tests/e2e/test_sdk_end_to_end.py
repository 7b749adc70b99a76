"""The JavaScript SDK (clients/js) against the real local stack, its socket cut mid-burst.

`clients/js/e2e/burst.mjs` does the SDK's side (see its header); this test then checks the server's
side independently with a plain Python WebSocket: every message the SDK wrote is stored exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import pytest
from websockets.sync.client import connect

from local.token import mint

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "clients" / "js"


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("Node.js 20 or newer is needed for the SDK tests (it is part of the machine set-up)")
    return path


def run_node(script: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([node(), str(SDK / "e2e" / script)], cwd=SDK, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, check=False)


def stored_texts(ws_url: str, token: str) -> list[str]:
    texts: list[str] = []
    with connect(f"{ws_url}/?token={token}") as ws:
        after = 0
        while True:
            ws.send(json.dumps({"action": "history", "after_seq": after, "limit": 100}))
            while (frame := json.loads(ws.recv(timeout=30)))["type"] != "history":
                pass
            texts += [m.get("text") or "" for m in frame["messages"] if m["sender"]["type"] == "customer"]
            if not frame["has_more"] or not frame["messages"]:
                return texts
            after = frame["messages"][-1]["seq"]


@pytest.mark.parametrize("mode", ["close", "abort"])
def test_sdk_burst_survives_cut_sockets_exactly_once_in_order(local_stack, mode: str) -> None:
    subject = f"sdk-burst-{mode}-{uuid.uuid4().hex[:8]}"
    token = mint("customer", subject, name="Burst")
    result = run_node("burst.mjs", {"WS_URL": local_stack.ws, "CONTROL_URL": local_stack.control, "TOKEN": token,
                                    "SUBJECT": subject, "MODE": mode, "N": "50"})
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(figures["closes"]) >= 2 and len(figures["resyncs"]) >= 2, figures
    counts = Counter(stored_texts(local_stack.ws, token))
    for i in range(50):
        assert counts[f"sdk {i}"] == 1, f"sdk {i} stored {counts[f'sdk {i}']} times"
        assert counts[f"peer {i}"] == 1



def test_miniprogram_page_chats_over_wx_connect_socket_and_keeps_its_outbox_in_wx_storage(local_stack) -> None:
    """`clients/js/e2e/miniprogram.mjs`: the example page with a stand-in `wx` opening real sockets."""
    from local.web import build_bundles

    assert build_bundles(print), "the SDK bundle for the mini-program (lib/chat-sdk.js) could not be built"
    subject = f"sdk-mp-{uuid.uuid4().hex[:8]}"
    result = run_node("miniprogram.mjs", {"WS_URL": local_stack.ws, "CONTROL_URL": local_stack.control,
                                          "TOKEN": mint("customer", subject, name="Wang"), "SUBJECT": subject})
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["messages"] >= 3
