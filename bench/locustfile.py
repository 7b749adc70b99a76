"""Load on the local stack with Locust: customers on raw WebSockets, and a webhook channel.

Start the stack (`make dev`), then, headless, stopping by itself:

    .venv/bin/locust -f bench/locustfile.py --headless -u 40 -r 10 --run-time 60s \\
        --host ws://127.0.0.1:8001 --rest http://127.0.0.1:8000 --only-summary

- `ChatCustomer` (weight 4): one WebSocket per simulated customer (token minted with the stack's
  development secret); each task sends `sendMessage` with a fresh `client_msg_id` and waits for the
  `ack` (reported as `ws ack`) and then for the bot's answer (`ws bot answer`), 30 s deadline each; a
  missing ack is a failure and counted as lost.
- `WebhookCustomer` (weight 1): a signed generic-webhook delivery (`POST /webhooks/generic`, the HMAC of
  docs/generic-webhook.md), reported as `webhook`; anything but 200 is a failure.

At the end it prints sent / acked / lost and the bot answers, and exits 1 if any message was lost.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from typing import Any

import gevent
import websocket
from locust import HttpUser, User, between, events, task

from local.token import mint
from local.webhook import signed, text_body

QUESTIONS = ["where is my order", "how do I return an item", "when will my refund arrive",
             "which payment methods do you accept", "how do I reset my password"]
DEADLINE_S = 30.0
TOTALS = {"sent": 0, "acked": 0, "lost": 0, "bot_answers": 0, "no_bot_answer": 0, "webhooks": 0}
_totals_lock = threading.Lock()


def _count(name: str) -> None:
    with _totals_lock:
        TOTALS[name] += 1


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--rest", default=os.environ.get("CS_REST_URL", "http://127.0.0.1:8000"),
                        help="the stack's REST URL (webhooks)")


class ChatCustomer(User):
    weight = 4
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.customer = f"load-{uuid.uuid4().hex[:10]}"
        self.ws = websocket.create_connection(f"{self.host}/?token={mint('customer', self.customer)}", timeout=30)
        self.frames: list[dict[str, Any]] = []
        self.reader = gevent.spawn(self._read)

    def on_stop(self) -> None:
        self.ws.close()
        self.reader.kill()

    def _read(self) -> None:
        try:
            while True:
                self.frames.append(json.loads(self.ws.recv()))
        except Exception:  # closed at the end of the run
            return

    def _wait(self, predicate: Any, since: int) -> dict[str, Any] | None:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            for frame in self.frames[since:]:
                if predicate(frame):
                    return frame
            gevent.sleep(0.005)  # yield to the reader greenlet while polling toward the deadline
        return None

    @task
    def ask(self) -> None:
        cmid = uuid.uuid4().hex
        since = len(self.frames)
        started = time.perf_counter()
        self.ws.send(json.dumps({"action": "sendMessage", "client_msg_id": cmid,
                                 "text": QUESTIONS[len(self.frames) % len(QUESTIONS)]}))
        _count("sent")
        ack = self._wait(lambda f: f.get("type") == "ack" and f.get("client_msg_id") == cmid, since)
        fire = self.environment.events.request.fire
        if ack is None:
            _count("lost")
            fire(request_type="WS", name="ws ack", response_time=DEADLINE_S * 1000, response_length=0,
                 exception=TimeoutError(f"no ack for {cmid} within {DEADLINE_S} s"))
            return
        _count("acked")
        fire(request_type="WS", name="ws ack", response_time=(time.perf_counter() - started) * 1000,
             response_length=0, exception=None)
        answer = self._wait(lambda f: f.get("type") == "message" and f["message"].get("sender", {}).get("type")
                            == "bot" and f["message"].get("seq", 0) > ack["seq"], since)
        if answer is None:
            _count("no_bot_answer")
            fire(request_type="WS", name="ws bot answer", response_time=DEADLINE_S * 1000, response_length=0,
                 exception=TimeoutError("no bot answer"))
            return
        _count("bot_answers")
        fire(request_type="WS", name="ws bot answer", response_time=(time.perf_counter() - started) * 1000,
             response_length=0, exception=None)


class WebhookCustomer(HttpUser):
    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.base_url = self.environment.parsed_options.rest  # --host is the WebSocket URL
        self.user = f"crm-load-{uuid.uuid4().hex[:8]}"
        from local.devserver import DEV_SECRETS

        self.secrets = {**DEV_SECRETS, **{k: v for k, v in os.environ.items() if k in DEV_SECRETS}}

    @task
    def deliver(self) -> None:
        body = text_body("generic", "where is my order", user=self.user)
        headers, _ = signed("generic", body, self.secrets)
        with self.client.post("/webhooks/generic", data=body, headers=headers, name="webhook",
                              catch_response=True) as response:
            if response.status_code == 200:
                _count("webhooks")
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")


@events.quitting.add_listener
def _summary(environment: Any, **_: Any) -> None:
    cut_short = TOTALS["sent"] - TOTALS["acked"] - TOTALS["lost"]  # still waiting for their ack at the stop
    print(f"\nload summary: {json.dumps({**TOTALS, 'waiting_at_stop': cut_short})}")
    if TOTALS["lost"]:
        environment.process_exit_code = 1
