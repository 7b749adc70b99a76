"""End to end over real sockets: the local stack, two devices of one customer and another customer."""

from __future__ import annotations

import json

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from local.token import mint

TIMEOUT = 10


def _recv(ws) -> dict:
    return json.loads(ws.recv(timeout=TIMEOUT))


def _recv_until(ws, frame_type: str) -> dict:
    for _ in range(20):
        frame = _recv(ws)
        if frame.get("type") == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


def _no_frame(ws, seconds: float = 0.5) -> bool:
    try:
        ws.recv(timeout=seconds)
    except TimeoutError:
        return True
    return False


def test_rest_health(local_stack):
    assert requests.get(f"{local_stack.http}/health", timeout=TIMEOUT).json() == {"status": "ok"}


def test_two_devices_and_another_customer(local_stack):
    alice = mint("customer", "e2e-alice", name="Alice")
    with connect(f"{local_stack.ws}/?token={alice}") as phone, \
            connect(f"{local_stack.ws}/?token={alice}") as tablet, \
            connect(f"{local_stack.ws}/?token={mint('customer', 'e2e-bob')}") as bob:
        phone.send(json.dumps({"action": "sendMessage", "client_msg_id": "e1", "text": "hello from the phone"}))
        ack = _recv_until(phone, "ack")
        assert ack["client_msg_id"] == "e1" and ack["seq"] >= 1

        fanned = _recv_until(tablet, "message")
        assert fanned["message"]["message_id"] == ack["message_id"]
        assert _no_frame(bob)

        # resend: same message id, stored once
        phone.send(json.dumps({"action": "sendMessage", "client_msg_id": "e1", "text": "hello from the phone"}))
        assert _recv_until(phone, "ack")["message_id"] == ack["message_id"]

        tablet.send(json.dumps({"action": "sendMessage", "client_msg_id": "e2", "text": "and the tablet"}))
        second = _recv_until(tablet, "ack")
        assert second["seq"] > ack["seq"]

        phone.send(json.dumps({"action": "history", "after_seq": 0}))
        history = _recv_until(phone, "history")
        ids = [m["message_id"] for m in history["messages"] if m["sender"]["type"] == "customer"]
        assert ids == [ack["message_id"], second["message_id"]]

    # reconnect and resync from the last seq the phone saw
    with connect(f"{local_stack.ws}/?token={alice}") as phone:
        phone.send(json.dumps({"action": "history", "after_seq": ack["seq"]}))
        resync = _recv_until(phone, "history")
        assert second["message_id"] in [m["message_id"] for m in resync["messages"]]
        assert all(m["seq"] > ack["seq"] for m in resync["messages"])


@pytest.mark.parametrize("frame", [
    "not json", json.dumps({"action": "nope"}), json.dumps({"action": "sendMessage", "text": "x"}),
    json.dumps({"action": "sendMessage", "client_msg_id": "b1", "text": ""}),
    json.dumps({"action": "sendMessage", "client_msg_id": "b2", "text": "y" * 4001}),
])
def test_bad_input_gets_error_frame_and_socket_keeps_working(local_stack, frame):
    with connect(f"{local_stack.ws}/?token={mint('customer', 'e2e-carol')}") as ws:
        ws.send(frame)
        error = _recv_until(ws, "error")
        assert error["code"] in {"invalid_json", "unknown_action", "missing_field", "empty_field", "text_too_long"}
        ws.send(json.dumps({"action": "ping"}))
        assert _recv_until(ws, "pong") == {"type": "pong"}


def test_oversized_frame_closes_with_1009_and_client_can_resync(local_stack):
    token = mint("customer", "e2e-dave")
    with connect(f"{local_stack.ws}/?token={token}", max_size=None) as ws:
        ws.send(json.dumps({"action": "sendMessage", "client_msg_id": "d1", "text": "before"}))
        ack = _recv_until(ws, "ack")
        ws.send("x" * (33 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(5):
                ws.recv(timeout=TIMEOUT)
        assert closed.value.rcvd.code == 1009
    with connect(f"{local_stack.ws}/?token={token}") as ws:
        ws.send(json.dumps({"action": "history", "after_seq": 0}))
        assert ack["message_id"] in [m["message_id"] for m in _recv_until(ws, "history")["messages"]]


@pytest.mark.parametrize("token", [None, "forged", "expired"])
def test_connection_refused_without_valid_token(local_stack, token):
    if token == "expired":
        token = mint("customer", "e2e-eve", ttl=-600)
    url = local_stack.ws + (f"/?token={token}" if token else "/")
    with pytest.raises(InvalidStatus) as refused:
        connect(url)
    assert refused.value.response.status_code in (401, 403)
