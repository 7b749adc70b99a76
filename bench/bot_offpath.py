"""The bot off the request path: webhook response time, and the customer's wait for the bot's answer.

Starts the local stack in this process (moto server, the REST and WebSocket gateways, the SQS
pollers that run `process_effects` from the FIFO effects queue) with the sample knowledge base,
then measures on the signed generic webhook:
1. cold model: the first webhook after the serving container is new (`services()` rebuilt, so
   the model is loaded from S3 by the effects consumer, as in a fresh Lambda container);
2. sequential: N webhooks one after another;
3. under load: C senders at once.
For each: the webhook's response time (stored + effects scheduled, then 200) p50/p99, and the
message-to-answer time (the bot reply's stored timestamp minus the customer message's) p50/p99.
Then the same message-to-answer time over the WebSocket, measured by the client (send → the bot's
`message` frame).

    python -m bench.bot_offpath [--messages 100] [--senders 8] [--per-sender 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.request import Request, urlopen

from websockets.sync.client import connect

from bench.chat_roundtrip import percentile
from local.devserver import LocalStack, free_port
from local.webhook import signed_request, text_body

# Questions the sample KB answers in one turn (no slot to ask for: an order or refund question would get
# "which order?", then a person after the second ask, and no bot answer to time), taken in turn.
QUESTIONS = ("运费多少", "多久发货", "支持哪些支付方式", "怎么开发票", "门店几点开门", "优惠券怎么用")
_turns = itertools.count()


def _question() -> str:
    return QUESTIONS[next(_turns) % len(QUESTIONS)]


def _post_webhook(http: str, user: str) -> float:
    body, headers, query = signed_request("generic", text_body("generic", _question(), user=user), dict(os.environ))
    url = f"{http}/webhooks/generic" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    started = time.perf_counter()
    with urlopen(Request(url, data=body, headers=headers, method="POST"), timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def _answer_lags(users: list[str], deadline_s: float = 300) -> tuple[list[float], int]:
    """For every customer message of these users, ms from its storing to the bot reply's storing, and
    how many messages had no bot reply when the deadline passed (reported, not raised: a partial
    result says more than none)."""
    from chalicelib import services as composition

    root = composition.services()
    lags: dict[str, float] = {}
    unanswered = 0
    deadline = time.monotonic() + deadline_s
    pending = set(users)
    while pending:
        unanswered = 0
        for user in sorted(pending):
            identity = root.identity_store.get("generic", user)
            conversation = root.conversation_store.open_conversation_id(identity.customer_id) if identity else None
            if conversation is None:
                continue
            messages, _ = root.conversation_store.list_messages(conversation, after_seq=0, limit=100)
            asked = {m.message_id: m.ts_ms for m in messages if m.sender.type == "customer"}
            answered = {(m.meta or {}).get("in_reply_to"): m.ts_ms for m in messages if m.sender.type == "bot"}
            lags.update({mid: answered[mid] - ts for mid, ts in asked.items() if mid in answered})
            unanswered += len(asked.keys() - answered.keys())
            if asked and asked.keys() <= answered.keys():
                pending.discard(user)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.5)  # polling the stored replies (each poll reads every pending conversation), within the deadline
    return list(lags.values()), unanswered


def _summary(name: str, responses: list[float], answers: tuple[list[float], int], seconds: float) -> dict[str, Any]:
    lags, unanswered = answers
    result = {
        "scenario": name, "webhooks": len(responses),
        "webhook_response_p50_ms": round(percentile(responses, 50), 1),
        "webhook_response_p99_ms": round(percentile(responses, 99), 1),
        "message_to_bot_answer_p50_ms": round(percentile(lags, 50), 1) if lags else None,
        "message_to_bot_answer_p99_ms": round(percentile(lags, 99), 1) if lags else None,
        "webhooks_per_s": round(len(responses) / seconds, 1),
        "unanswered_after_deadline": unanswered,
    }
    print(json.dumps(result), flush=True)
    return result


def _wait_for_model(timeout: float = 600) -> None:
    from chalicelib import services as composition

    deadline = time.monotonic() + timeout
    while composition.services().model_registry.pointer(consistent=True) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the sample knowledge base did not train in time")
        time.sleep(0.5)
    for thread in threading.enumerate():
        if thread.name == "bot-seed":
            thread.join(timeout)


def _websocket_lags(ws_url: str, count: int) -> list[float]:
    from local.token import mint

    lags = []
    with connect(f"{ws_url}/?token={mint('customer', 'bench-ws')}", ping_interval=None) as ws:
        for _ in range(count):
            client_msg_id = uuid.uuid4().hex
            started = time.perf_counter()
            ws.send(json.dumps({"action": "sendMessage", "client_msg_id": client_msg_id, "text": _question()}))
            while True:
                frame = json.loads(ws.recv(timeout=60))
                if frame.get("type") == "message" and frame["message"]["sender"]["type"] == "bot":
                    lags.append((time.perf_counter() - started) * 1000)
                    break
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100, help="webhooks in the sequential run")
    parser.add_argument("--senders", type=int, default=8, help="concurrent senders in the load run")
    parser.add_argument("--per-sender", type=int, default=20)
    args = parser.parse_args()

    stack = LocalStack("127.0.0.1", free_port(), free_port(), free_port(), free_port())
    try:
        urls = stack.start()
        _wait_for_model()
        from chalicelib import services as composition

        composition.reset()  # a new serving container: the first bot answer loads the model from S3
        http = urls["http"]
        started = time.perf_counter()
        cold = [_post_webhook(http, "bench-cold")]
        _summary("cold model, first webhook", cold, _answer_lags(["bench-cold"]), time.perf_counter() - started)

        users = [f"bench-seq-{i}" for i in range(max(1, args.messages // 10))]
        started = time.perf_counter()
        responses = [_post_webhook(http, users[i % len(users)]) for i in range(args.messages)]
        _summary("sequential", responses, _answer_lags(users), time.perf_counter() - started)

        senders = [f"bench-load-{i}" for i in range(args.senders)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.senders) as pool:
            batches = pool.map(lambda user: [_post_webhook(http, user) for _ in range(args.per_sender)], senders)
            responses = [ms for batch in batches for ms in batch]
        _summary(f"under load, {args.senders} concurrent senders", responses, _answer_lags(senders),
                 time.perf_counter() - started)

        lags = _websocket_lags(urls["ws"], 30)
        print(json.dumps({"scenario": "websocket, send to the bot's answer frame", "messages": len(lags),
                          "p50_ms": round(percentile(lags, 50), 1), "p99_ms": round(percentile(lags, 99), 1)}),
              flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
