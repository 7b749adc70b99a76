"""Generic signed JSON webhook (e-mail gateways, the company's own systems).

Signing (both directions): ``X-Signature-Timestamp: <unix seconds>`` and
``X-Signature: v1=<hex HMAC-SHA256(GENERIC_WEBHOOK_SECRET, f"{timestamp}.{raw_body}")>``.
Several comma-separated ``v1=`` values are accepted (secret rotation on the sender's
side). Requests older or newer than ``REPLAY_WINDOW`` (5 minutes) are rejected.
Body: one event object or ``{"events": [...]}``; an event is
``{"id", "from": {"id", "name", "email", "phone"}, "type", "text", "attachments": [...],
"location", "postback", "timestamp", "context"}``. Outbound messages are POSTed to
``GENERIC_CALLBACK_URL`` signed the same way. Full spec: ``docs/generic-webhook.md``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, ClassVar, get_args

from .base import (
    Secrets,
    as_dict,
    as_list,
    build_event,
    constant_time_equal,
    from_unix,
    hmac_sha256,
    load_json,
    need,
    secret,
    utcnow,
)
from .errors import MalformedPayload, SignatureError
from .models import HttpCall, InboundEvent, Kind, MediaRef, OutboundMessage, WebhookRequest
from .policies import ChannelPolicy
from .spec import ChannelSpec

REPLAY_WINDOW = timedelta(minutes=5)
TIMESTAMP_HEADER = "X-Signature-Timestamp"
SIGNATURE_HEADER = "X-Signature"
_KINDS = set(get_args(Kind)) - {"unsupported"}


def sign(secret_value: str, timestamp: int | str, body: bytes) -> str:
    """Return the ``X-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac_sha256(secret_value, str(timestamp).encode("ascii") + b"." + body)
    return f"v1={mac.hex()}"


def signed_headers(secret_value: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    """Headers a sender (or a test) attaches to ``body``."""
    ts = int(utcnow(now).timestamp())
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(secret_value, ts, body),
    }


def _timestamp(value: object, where: str) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_unix(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise MalformedPayload(f"{where}: timestamp is not ISO 8601") from exc
        if parsed.tzinfo is None:
            raise MalformedPayload(f"{where}: timestamp needs a UTC offset")
        return parsed
    raise MalformedPayload(f"{where}: missing timestamp")


def _event(ev: dict[str, Any]) -> InboundEvent:
    sender = as_dict(ev.get("from"), "from")
    email = sender.get("email")
    user_id = sender.get("id") or email
    if not user_id:
        raise MalformedPayload("from: needs id or email")
    ev_type = need(ev, "type", where="event")
    kind = ev_type if ev_type in _KINDS else "unsupported"
    media = []
    for att in as_list(ev.get("attachments"), "attachments"):
        att = as_dict(att, "attachment")
        if not att.get("url") and not att.get("media_id"):
            raise MalformedPayload("attachment: needs url or media_id")
        media.append(
            MediaRef(
                media_id=att.get("media_id"),
                url=att.get("url"),
                mime_type=att.get("mime_type"),
                file_name=att.get("file_name"),
                size=att.get("size"),
            )
        )
    location = ev.get("location")
    if kind == "location":
        location = as_dict(location, "location")
    context = ev.get("context") or {}
    return build_event(
        channel="generic",
        event_key=need(ev, "id", where="event"),
        external_user_id=str(user_id),
        profile_name=sender.get("name"),
        email=email,
        phone=sender.get("phone"),
        kind=kind,
        raw_type=ev_type,
        text=ev.get("text"),
        media=media,
        location=location if kind == "location" else None,
        postback=ev.get("postback") if kind == "postback" else None,
        platform_ts=_timestamp(ev.get("timestamp"), "event"),
        reply_context={str(k): str(v) for k, v in as_dict(context, "context").items()},
    )


SPEC = ChannelSpec(
    name="generic",
    secrets=("GENERIC_WEBHOOK_SECRET", "GENERIC_CALLBACK_URL"),
    api_base_setting=None,  # it calls the company's own GENERIC_CALLBACK_URL
    policy=ChannelPolicy(
        max_text=65536,
        max_quick_replies=13,
        max_quick_reply_title=100,
        max_quick_reply_payload=1000,
    ),
)


class GenericAdapter:
    spec: ClassVar[ChannelSpec] = SPEC

    def verify(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> None:
        key = secret(secrets, "GENERIC_WEBHOOK_SECRET")
        ts_raw, sig_raw = request.header(TIMESTAMP_HEADER), request.header(SIGNATURE_HEADER)
        if not ts_raw or not sig_raw:
            raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}", status=401)
        if not ts_raw.isascii() or not ts_raw.isdigit() or len(ts_raw) > 12:
            raise SignatureError("bad signature timestamp")
        if abs(utcnow(now).timestamp() - int(ts_raw)) > REPLAY_WINDOW.total_seconds():
            raise SignatureError("signature timestamp outside the 5-minute window")
        expected = sign(key, ts_raw, request.body)
        candidates = [part.strip() for part in sig_raw.split(",")]
        # evaluate every candidate so timing does not reveal which one matched
        matches = [constant_time_equal(expected, c) for c in candidates if c.startswith("v1=")]
        if not any(matches):
            raise SignatureError("signature mismatch")

    def handshake(self, request: WebhookRequest, secrets: Secrets) -> tuple[int, str]:
        return 405, "the generic webhook has no GET handshake"

    def parse(
        self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
    ) -> list[InboundEvent]:
        body = as_dict(load_json(request.body), "body")
        if "events" in body:
            return [_event(as_dict(ev, "event")) for ev in as_list(body["events"], "events")]
        return [_event(body)]

    def prepare_send(
        self,
        message: OutboundMessage,
        secrets: Secrets,
        *,
        access_token: str | None = None,
        now: datetime | None = None,
    ) -> list[HttpCall]:
        url = secret(secrets, "GENERIC_CALLBACK_URL")
        key = secret(secrets, "GENERIC_WEBHOOK_SECRET")
        moment = utcnow(now)
        payload: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "to": {"id": message.recipient_id},
            "type": "template" if message.template else ("media" if message.media else "text"),
            "text": message.text,
            "quick_replies": [qr.model_dump() for qr in message.quick_replies],
            "media": message.media.model_dump(exclude_none=True) if message.media else None,
            "template": message.template.model_dump() if message.template else None,
            "context": message.reply_context,
            "timestamp": moment.isoformat().replace("+00:00", "Z"),
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = signed_headers(key, body, moment)
        headers["Idempotency-Key"] = payload["id"]
        return [HttpCall(channel="generic", url=url, headers=headers, body=body)]
