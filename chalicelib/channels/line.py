"""LINE Messaging API adapter.

``x-line-signature`` is base64(HMAC-SHA256(channel secret, raw body)). A body is
``{"destination", "events": [...]}`` (an empty list is the console's "Verify"
call); each event has ``webhookEventId`` (dedup key), ``deliveryContext.isRedelivery``,
``timestamp`` (ms), ``source`` and, for replyable events, ``replyToken``. Supported:
message (text, image, video, audio, file, location, sticker), follow, unfollow,
postback; anything else is kept as ``unsupported``. Sends use the push API
``POST {LINE_API_BASE}/v2/bot/message/push`` with a per-call ``X-Line-Retry-Key``
so retries of the same call are idempotent.
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from .base import (
    Secrets,
    api_base,
    as_dict,
    as_list,
    build_event,
    constant_time_equal,
    from_unix_ms,
    hmac_sha256,
    load_json,
    need,
    secret,
)
from .errors import PolicyViolation, SignatureError
from .models import HttpCall, InboundEvent, MediaRef, OutboundMessage, WebhookRequest
from .policies import MB, ChannelPolicy
from .spec import ChannelSpec

if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_API_BASE = "https://api.line.me"

_MEDIA_KIND = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
_EVENT_KIND = {"follow": "follow", "unfollow": "unfollow"}


def _event(ev: dict[str, Any], destination: str) -> InboundEvent:
    ev_type = need(ev, "type", where="event")
    source = as_dict(ev.get("source"), "source")
    user_id = source.get("userId") or source.get("groupId") or source.get("roomId")
    reply_context: dict[str, str] = {"source_type": str(source.get("type", "")), "destination": destination}
    reply_context["to"] = str(source.get("groupId") or source.get("roomId") or user_id or "")
    if ev.get("replyToken"):
        reply_context["reply_token"] = str(ev["replyToken"])
    fields: dict[str, Any] = {
        "channel": "line",
        "event_key": need(ev, "webhookEventId", where="event"),
        "external_user_id": user_id,
        "platform_ts": from_unix_ms(need(ev, "timestamp", (int, float), "event")),
        "is_redelivery": bool((ev.get("deliveryContext") or {}).get("isRedelivery", False)),
        "reply_context": reply_context,
    }
    if ev_type == "message":
        msg = as_dict(ev.get("message"), "message")
        msg_type = need(msg, "type", where="message")
        fields["raw_type"] = f"message:{msg_type}"
        reply_context["message_id"] = str(msg.get("id", ""))
        if msg.get("quoteToken"):
            reply_context["quote_token"] = str(msg["quoteToken"])
        if msg_type == "text":
            return build_event(kind="text", text=need(msg, "text", where="text"), **fields)
        if msg_type in _MEDIA_KIND:
            provider = msg.get("contentProvider") or {}
            media = MediaRef(
                media_id=need(msg, "id", where="message"),
                url=provider.get("originalContentUrl"),
                file_name=msg.get("fileName"),
                size=msg.get("fileSize"),
            )
            return build_event(kind=_MEDIA_KIND[msg_type], media=[media], **fields)
        if msg_type == "sticker":
            media = MediaRef(media_id=f"{msg.get('packageId')}:{msg.get('stickerId')}")
            keywords = msg.get("keywords") or []
            return build_event(
                kind="image", media=[media], text=msg.get("text") or ", ".join(keywords[:3]) or None, **fields
            )
        if msg_type == "location":
            location = {
                "lat": need(msg, "latitude", (int, float), "location"),
                "lon": need(msg, "longitude", (int, float), "location"),
                "label": msg.get("title"),
                "address": msg.get("address"),
            }
            return build_event(kind="location", location=location, **fields)
        return build_event(kind="unsupported", **fields)
    fields["raw_type"] = ev_type
    if ev_type in _EVENT_KIND:
        return build_event(kind=_EVENT_KIND[ev_type], **fields)
    if ev_type == "postback":
        pb = as_dict(ev.get("postback"), "postback")
        return build_event(kind="postback", postback=need(pb, "data", where="postback"), **fields)
    return build_event(kind="unsupported", **fields)


def _line_message(message: OutboundMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    media = message.media
    if media and media.url:
        if media.type == "image":
            out.append({"type": "image", "originalContentUrl": media.url, "previewImageUrl": media.url})
        elif media.type == "video":
            out.append({"type": "video", "originalContentUrl": media.url, "previewImageUrl": media.url})
        elif media.type == "audio":
            out.append({"type": "audio", "originalContentUrl": media.url, "duration": 60000})
        else:  # LINE cannot push arbitrary files: send the link as text
            out.append({"type": "text", "text": media.url})
    if message.text or not out:
        out.append({"type": "text", "text": message.text or ""})
    if message.quick_replies:
        out[-1]["quickReply"] = {
            "items": [
                {
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": qr.title,
                        "data": qr.payload,
                        "displayText": qr.title,
                    },
                }
                for qr in message.quick_replies
            ]
        }
    return out


SPEC = ChannelSpec(
    name="line",
    secrets=("LINE_CHANNEL_SECRET", "LINE_CHANNEL_TOKEN"),
    api_base_setting="LINE_API_BASE",
    policy=ChannelPolicy(
        max_text=5000,
        text_unit="utf16",
        max_quick_replies=13,
        max_quick_reply_title=20,
        max_quick_reply_payload=300,
        max_media_bytes={"image": 10 * MB, "audio": 200 * MB, "video": 200 * MB},
    ),
    sent_id=lambda answer: ((answer.get("sentMessages") or [{}])[0] or {}).get("id"),
)


class LineAdapter:
    spec: ClassVar[ChannelSpec] = SPEC

    def verify(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> None:
        channel_secret = secret(secrets, "LINE_CHANNEL_SECRET")
        provided = request.header("x-line-signature")
        if not provided:
            raise SignatureError("missing x-line-signature", status=401)
        expected = base64.b64encode(hmac_sha256(channel_secret, request.body)).decode("ascii")
        if not constant_time_equal(expected, provided.strip()):
            raise SignatureError("signature mismatch")

    def handshake(self, request: WebhookRequest, secrets: Secrets) -> tuple[int, str]:
        return 405, "LINE has no GET handshake (the console POSTs an empty events list)"

    def parse(
        self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
    ) -> list[InboundEvent]:
        body = as_dict(load_json(request.body), "body")
        destination = str(body.get("destination", ""))
        return [_event(as_dict(ev, "event"), destination) for ev in as_list(body.get("events"), "events")]

    def prepare_send(
        self, message: OutboundMessage, secrets: Secrets, *, access_token: str | None = None
    ) -> list[HttpCall]:
        if message.template:
            raise PolicyViolation("template_unsupported", "LINE has no template messages in this layer")
        token = access_token or secret(secrets, "LINE_CHANNEL_TOKEN")
        base = api_base(secrets, "LINE_API_BASE", DEFAULT_API_BASE)
        to = message.reply_context.get("to") or message.recipient_id
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "X-Line-Retry-Key": str(uuid.uuid4()),
        }
        return [
            HttpCall(
                channel="line",
                url=f"{base}/v2/bot/message/push",
                headers=headers,
                json={"to": to, "messages": _line_message(message)},
            )
        ]
