"""Send a signed platform webhook to the local stack, as the platform itself would.

    python -m local.webhook telegram "hello"                      # to http://127.0.0.1:8000
    python -m local.webhook wechat "你好" --user oALICE --url http://127.0.0.1:8000
    python -m local.webhook generic "call me" --user crm-42 --repeat 3    # a retried delivery

The body is the channel's text sample from `events/webhooks/<channel>/` with a fresh message id,
the current time and your text; it is signed with the development secrets of `local/devserver.py`
(or the environment's). The reply, once an agent (or the bot) answers, shows up at the fake
platforms server: `curl http://127.0.0.1:8025/_control/requests`. Never used in Lambda.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "events" / "webhooks"
CHANNELS = ("wechat", "whatsapp", "messenger", "telegram", "line", "generic")


def _sample(channel: str, name: str) -> Any:
    return json.loads((SAMPLES / channel / name).read_text())


def text_body(channel: str, text: str, *, user: str | None = None, event_id: str | None = None,
              now: float | None = None) -> bytes:
    """A platform's webhook body carrying one text message from `user`, sent `now`."""
    now = time.time() if now is None else now
    unique = event_id or uuid.uuid4().hex[:16]
    if channel == "wechat":
        user = user or "oFAKEopenid000000000000001"
        msg_id = event_id or str(int(now * 1000) * 1000 + int(unique[:3], 16))
        return (f"<xml><ToUserName><![CDATA[gh_fake00000001]]></ToUserName>"
                f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{int(now)}</CreateTime>"
                f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
                f"<MsgId>{msg_id}</MsgId></xml>").encode()
    if channel == "whatsapp":
        body = _sample("whatsapp", "text.json")
        value = body["entry"][0]["changes"][0]["value"]
        user = user or value["contacts"][0]["wa_id"]
        value["contacts"][0]["wa_id"] = user
        message = value["messages"][0]
        message.update({"from": user, "id": f"wamid.{unique}", "timestamp": str(int(now))})
        message["text"]["body"] = text
    elif channel == "messenger":
        body = _sample("messenger", "text.json")
        item = body["entry"][0]["messaging"][0]
        item["sender"]["id"] = user or item["sender"]["id"]
        item["timestamp"] = int(now * 1000)
        item["message"] = {"mid": f"m_{unique}", "text": text}
    elif channel == "telegram":
        body = _sample("telegram", "message_text.json")
        body["update_id"] = int(event_id) if event_id and event_id.isdigit() else int(now * 1000) % 2**31
        message = body["message"]
        if user:
            message["from"]["id"] = message["chat"]["id"] = int(user)
        message.update({"date": int(now), "text": text, "message_id": body["update_id"] % 100000})
    elif channel == "line":
        body = _sample("line", "message_text.json")
        event = body["events"][0]
        event["source"]["userId"] = user or event["source"]["userId"]
        event.update({"timestamp": int(now * 1000), "webhookEventId": unique})
        event["message"] = {**event["message"], "id": unique, "text": text}
    elif channel == "generic":
        body = _sample("generic", "text.json")
        body.update({"id": f"evt_{unique}", "text": text,
                     "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
        body["from"] = {**body["from"], "id": user or body["from"]["id"]}
    else:
        raise ValueError(f"unknown channel {channel}")
    return json.dumps(copy.deepcopy(body), ensure_ascii=False).encode()


def signed(channel: str, body: bytes, secrets: dict[str, str], *, now: float | None = None,
           nonce: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The (headers, query) the platform would attach to `body` (WeChat: plaintext mode)."""
    now = time.time() if now is None else now
    nonce = nonce or uuid.uuid4().hex[:10]  # WeChat refuses a nonce reused for other content
    if channel == "wechat":
        from chalicelib.channels.wechat import sha1_signature

        ts = str(int(now))
        return {"Content-Type": "text/xml"}, {
            "signature": sha1_signature(secrets["WECHAT_TOKEN"], ts, nonce), "timestamp": ts, "nonce": nonce}
    if channel in ("whatsapp", "messenger"):
        key = secrets["WHATSAPP_APP_SECRET" if channel == "whatsapp" else "MESSENGER_APP_SECRET"]
        digest = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}, {}
    if channel == "telegram":
        return {"Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": secrets["TELEGRAM_SECRET_TOKEN"]}, {}
    if channel == "line":
        digest = hmac.new(secrets["LINE_CHANNEL_SECRET"].encode(), body, hashlib.sha256).digest()
        return {"Content-Type": "application/json", "x-line-signature": base64.b64encode(digest).decode()}, {}
    if channel == "generic":
        from datetime import UTC, datetime

        from chalicelib.channels.generic import signed_headers

        return signed_headers(secrets["GENERIC_WEBHOOK_SECRET"], body, datetime.fromtimestamp(now, UTC)), {}
    raise ValueError(f"unknown channel {channel}")


def signed_request(channel: str, body: bytes, secrets: dict[str, str], *, now: float | None = None,
                   nonce: str | None = None) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """(body, headers, query) as the platform sends `body`: WeChat in safe mode when an AES key is set."""
    if channel != "wechat" or not secrets.get("WECHAT_ENCODING_AES_KEY"):
        headers, query = signed(channel, body, secrets, now=now, nonce=nonce)
        return body, headers, query
    from chalicelib.channels.wechat import encrypted_envelope

    envelope, query = encrypted_envelope(body, token=secrets["WECHAT_TOKEN"],
                                         encoding_aes_key=secrets["WECHAT_ENCODING_AES_KEY"],
                                         app_id=secrets["WECHAT_APP_ID"],
                                         timestamp=str(int(time.time() if now is None else now)),
                                         nonce=nonce or uuid.uuid4().hex[:10])
    return envelope, {"Content-Type": "text/xml"}, query


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("channel", choices=CHANNELS)
    parser.add_argument("text")
    parser.add_argument("--user", help="the platform's user id (openid, wa_id, PSID, chat id, userId, from.id)")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('HTTP_PORT', '8000')}")
    parser.add_argument("--repeat", type=int, default=1, help="send the same delivery N times (platform retries)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from local.devserver import DEV_SECRETS

    secrets = {**DEV_SECRETS, **{k: v for k, v in os.environ.items() if k in DEV_SECRETS}}
    body, headers, query = signed_request(args.channel, text_body(args.channel, args.text, user=args.user), secrets)
    url = f"{args.url.rstrip('/')}/webhooks/{args.channel}" + (f"?{urlencode(query)}" if query else "")
    for _ in range(max(1, args.repeat)):
        try:
            with urlopen(Request(url, data=body, headers=headers, method="POST"), timeout=10) as response:
                print(response.status, response.read().decode())
        except HTTPError as exc:
            print(exc.code, exc.read().decode())
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
