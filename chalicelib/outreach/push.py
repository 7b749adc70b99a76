"""The optional push hook: tell an offline app customer's device that a message waits.

Configured by the secret `PUSH_CALLBACK_URL` (HTTPS; plain HTTP only to a loopback host, for the
local stack): the company's push service gets `POST {customer_id, conversation_id, message_id,
preview}` signed with `X-Signature-256: sha256=<hex HMAC-SHA256(PUSH_CALLBACK_SECRET, body)>` and
`X-Timestamp` (the signature covers `timestamp.body`). It sends the device notification (APNs,
FCM, SNS mobile push: whatever it already uses). Unset: no hook, the message still waits in the
conversation for the next connect. A failing hook is logged and counted; it never fails the send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from aws_lambda_powertools import Logger

from chalicelib import ids

if TYPE_CHECKING:
    from collections.abc import Callable

logger = Logger(child=True)

PREVIEW_CHARS = 120
TIMEOUT_SECONDS = 3
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class PushHook:
    def __init__(self, secret: Callable[[str], str | None]) -> None:
        self._secret = secret

    def notify(self, customer_id: str, conversation_id: str, message_id: str, text: str) -> bool | None:
        """True if the callback accepted it, False if it failed, None if no hook is configured."""
        url = self._secret("PUSH_CALLBACK_URL")
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            logger.error("PUSH_CALLBACK_URL must be https")
            return False
        body = json.dumps({"customer_id": customer_id, "conversation_id": conversation_id, "message_id": message_id,
                           "preview": text[:PREVIEW_CHARS]}, ensure_ascii=False).encode("utf-8")
        timestamp = str(ids.now_ms() // 1000)
        key = (self._secret("PUSH_CALLBACK_SECRET") or "").encode("utf-8")
        signature = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        request = Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Timestamp": timestamp, "X-Signature-256": f"sha256={signature}"})
        try:
            with urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                status: int = answer.status
                return 200 <= status < 300
        except Exception:
            logger.exception("push callback failed", extra={"conversation_id": conversation_id})
            return False
