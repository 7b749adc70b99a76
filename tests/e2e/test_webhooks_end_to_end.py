"""Through the real local stack: a signed Telegram webhook over HTTP, the bot's answer at the fake Telegram."""

from __future__ import annotations

import json
import os
import time
import urllib.request

from local.webhook import signed, text_body


def test_signed_webhook_is_answered_on_the_platform(local_stack):
    from local.devserver import DEV_SECRETS

    deadline = time.time() + 10  # the URLs are printed just after "ready"
    while not [line for line in local_stack.output if line.strip().startswith("platforms")]:
        assert time.time() < deadline, "".join(local_stack.output)
        time.sleep(0.1)
    platforms = next(line.split()[-1] for line in local_stack.output if line.strip().startswith("platforms"))
    body = text_body("telegram", "hello from e2e", user="424242", event_id="990001")
    headers, _ = signed("telegram", body, {**DEV_SECRETS, **{k: v for k, v in os.environ.items()
                                                             if k == "TELEGRAM_SECRET_TOKEN"}})
    for _ in range(2):  # the platform retries: one message, one answer
        request = urllib.request.Request(f"{local_stack.http}/webhooks/telegram", data=body, headers=headers,
                                         method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    deadline = time.time() + 30
    sends: list = []
    while time.time() < deadline and not sends:
        with urllib.request.urlopen(f"{platforms}/_control/requests", timeout=5) as response:
            sends = [r for r in json.load(response) if r["path"].endswith("/sendMessage")
                     and r["json"]["chat_id"] == "424242"]
        time.sleep(0.5)
    assert sends, "".join(local_stack.output[-30:])
    time.sleep(2)
    with urllib.request.urlopen(f"{platforms}/_control/requests", timeout=5) as response:
        texts = [r["json"]["text"] for r in json.load(response) if r["path"].endswith("/sendMessage")
                 and r["json"]["chat_id"] == "424242"]
    assert texts.count(sends[0]["json"]["text"]) == 1  # the bot's answer, once
