"""Helpers for the console's browser tests: the seeded desk, signing in, and a customer on the socket."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import urllib.request
from typing import Any

from websockets.sync.client import connect


def desk_users(stack: Any) -> dict[str, tuple[str, str]]:
    """user name -> (password, role), as `make dev` printed them (after "ready": waits for them)."""
    stack.wait_for_output("cognito ")
    text = "".join(stack.output)
    return {m[0]: (m[1], m[2]) for m in re.findall(r"sign-in\s+(\S+)\s+(\S+)\s+\((\w+)\)", text)}


def console_url(stack: Any) -> str:
    return stack.web + "console/"


def sign_in(page: Any, stack: Any, username: str, shots: Any = None) -> None:
    password, _ = desk_users(stack)[username]
    page.goto(console_url(stack))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    if shots:
        shots.step(f"{username} fills the sign-in form", page=page)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def access_token(page: Any) -> str:
    return page.evaluate("JSON.parse(sessionStorage.getItem('console.session')).access")


class Customer:
    """A customer's app on the WebSocket API (a demo token from the local web server)."""

    def __init__(self, stack: Any) -> None:
        request = urllib.request.Request(stack.web + "demo/token", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            issued = json.loads(response.read())
        self.customer_id, self.token = issued["customer_id"], issued["token"]
        self.ws = connect(f"{stack.ws}/?token={self.token}&channel=web", open_timeout=30)
        self.frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                frame = json.loads(raw)
                self.seen.append(frame)
                self.frames.put(frame)
        except Exception:  # closed
            return

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def say(self, text: str) -> None:
        self.send({"action": "sendMessage", "client_msg_id": f"c-{time.monotonic_ns()}", "text": text})

    def wait_for(self, predicate: Any, timeout: float = 60, what: str = "a frame") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = self.frames.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if predicate(frame):
                return frame
        raise AssertionError(f"the customer did not receive {what} within {timeout:.0f} s; got "
                             f"{[f.get('type') for f in self.seen]}")

    def message_from(self, sender_type: str, timeout: float = 60) -> dict[str, Any]:
        return self.wait_for(lambda f: f.get("type") == "message" and f["message"]["sender"]["type"] == sender_type,
                             timeout, f"a {sender_type} message")["message"]

    def close(self) -> None:
        self.ws.close()
