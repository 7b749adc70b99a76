"""Edit-to-live time of the knowledge base on the local stack: from a KB edit to the bot's new answer.

Starts the local stack (which imports and trains the sample KB), waits for that model, then edits
the answer of one entry N times through the REST API (PUT /kb/intents/store_hours, as an admin) and,
after each edit, asks the bot over WebSocket every 0.25 s until it answers with the new text. Prints,
per edit and as medians: edit -> model trained and pointer moved (queue + training + S3 + pointer),
and edit -> the bot answers with the new text (adds the serving function's pointer refresh, at most
BOT_MODEL_REFRESH_SECONDS, default 10 s).

    python -m bench.kb_sync [--edits 3] [--refresh-seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import urllib.request

from websockets.sync.client import connect

from local.devserver import LocalStack, free_port

QUESTION = "what are your opening hours?"


def _put_answer(http: str, token: str, answer: str) -> int:
    body = {"examples": ["what are your opening hours", "when does the store open", "are you open on weekends",
                         "门店几点开门", "营业时间是什么", "周末营业吗"],
            "answers": {"en": answer, "zh": answer}, "titles": {"en": "What are your store hours?",
                                                                "zh": "门店营业时间是几点？"}, "tags": ["stores"]}
    request = urllib.request.Request(f"{http}/kb/intents/store_hours", data=json.dumps(body).encode(), method="PUT",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["version"]


def _ask(ws, n: int) -> str:
    ws.send(json.dumps({"action": "sendMessage", "client_msg_id": f"kb-sync-{n}", "text": QUESTION}))
    while True:
        frame = json.loads(ws.recv(timeout=30))
        if frame.get("type") == "message" and frame["message"]["sender"]["type"] == "bot":
            return frame["message"]["text"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--refresh-seconds", type=float, default=None,
                        help="BOT_MODEL_REFRESH_SECONDS for the stack (default: the setting's default, 10 s)")
    args = parser.parse_args(argv)
    if args.refresh_seconds is not None:
        os.environ["BOT_MODEL_REFRESH_SECONDS"] = str(args.refresh_seconds)
    for name in ("HTTP_PORT", "WS_PORT", "WS_MANAGEMENT_PORT", "FAKE_PLATFORMS_PORT", "CLOCK_PORT"):
        os.environ.setdefault(name, str(free_port()))
    stack = LocalStack(host="127.0.0.1", http_port=int(os.environ["HTTP_PORT"]), ws_port=int(os.environ["WS_PORT"]),
                       management_port=int(os.environ["WS_MANAGEMENT_PORT"]), moto_port=free_port(),
                       fake_platforms_port=int(os.environ["FAKE_PLATFORMS_PORT"]))
    try:
        started = time.monotonic()
        urls = stack.start()  # imports the sample KB and queues its training (local/bot_seed.py)
        from chalicelib import services as composition

        while composition.services().model_registry.pointer(consistent=True) is None:
            if time.monotonic() - started > 300:
                raise SystemExit("the sample KB model did not go live within 300 s")
            time.sleep(0.2)
        print(f"sample KB model live {time.monotonic() - started:.1f} s after start-up", flush=True)
        from local.token import mint

        refresh = composition.services().settings.model_refresh_seconds
        registry = composition.services().model_registry
        admin = mint("agent", "bench-admin", role="admin")
        trained, live = [], []
        with connect(f"{urls['ws']}/?token={mint('customer', 'bench-kb-sync')}") as ws:
            asked = 0
            for edit in range(1, args.edits + 1):
                answer = f"Edit {edit}: we are open 9:{edit:02d}-21:00 every day."
                t0 = time.monotonic()
                version = _put_answer(urls["http"], admin, answer)
                seen_trained = None
                while True:
                    if seen_trained is None and (p := registry.pointer(consistent=True)) and p.version >= version:
                        seen_trained = time.monotonic() - t0
                    asked += 1
                    if _ask(ws, asked) == answer:
                        break
                    if time.monotonic() - t0 > 300:
                        raise SystemExit(f"edit {edit} not live after 300 s")
                    time.sleep(0.25)
                elapsed = time.monotonic() - t0
                trained.append(seen_trained if seen_trained is not None else elapsed)
                live.append(elapsed)
                print(f"edit {edit} (kb v{version}): model published after {trained[-1]:5.1f} s, "
                      f"bot answers with it after {elapsed:5.1f} s", flush=True)
        print(f"\nedit-to-live on the local stack ({args.edits} edits, sample KB of 17 intents, pointer refresh "
              f"{refresh:g} s): median {statistics.median(live):.1f} s (max {max(live):.1f} s); "
              f"of which training + publishing median {statistics.median(trained):.1f} s", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
