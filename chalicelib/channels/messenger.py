"""Facebook Messenger (Pages) adapter.

Same signing and GET handshake as WhatsApp (Meta ``X-Hub-Signature-256``). A payload
(``object: page``) carries ``entry[].messaging[]`` items: ``message`` (text,
attachments, quick_reply; echoes kept as ``unsupported``), ``postback``, ``read``
and ``delivery``. Messages dedup on ``mid``; read/delivery on PSID + watermark.
Sends use the Send API ``POST {MESSENGER_API_BASE}/me/messages`` with
``messaging_type: RESPONSE`` (or ``MESSAGE_TAG`` when ``message_tag`` is set).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from .base import (
    Secrets,
    api_base,
    as_dict,
    as_list,
    build_event,
    from_unix_ms,
    load_json,
    meta_handshake,
    need,
    secret,
    verify_meta_signature,
)
from .errors import MalformedPayload, PolicyViolation
from .models import HttpCall, InboundEvent, MediaRef, OutboundMessage, WebhookRequest
from .policies import MB, ChannelPolicy
from .spec import ChannelSpec

if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_API_BASE = "https://graph.facebook.com/v21.0"

_ATTACHMENT_KIND = {"image": "image", "audio": "audio", "video": "video", "file": "file"}


def _item_event(item: dict[str, Any], page_id: str) -> InboundEvent:
    sender = need(as_dict(item.get("sender"), "sender"), "id", where="sender")
    recipient = str((item.get("recipient") or {}).get("id", page_id))
    ts = from_unix_ms(need(item, "timestamp", (int, float), "messaging"))
    common: dict[str, Any] = {
        "channel": "messenger",
        "external_user_id": sender,
        "platform_ts": ts,
        "reply_context": {"page_id": recipient},
    }
    if isinstance(item.get("message"), dict):
        msg = item["message"]
        mid = need(msg, "mid", where="message")
        if msg.get("is_echo"):  # our own page's outbound message: the customer is the recipient
            common.update(external_user_id=recipient, reply_context={"page_id": sender})
            return build_event(event_key=mid, kind="unsupported", raw_type="message:echo", **common)
        quick_reply = msg.get("quick_reply")
        if isinstance(quick_reply, dict) and quick_reply.get("payload"):
            return build_event(
                event_key=mid,
                kind="postback",
                raw_type="message:quick_reply",
                postback=str(quick_reply["payload"]),
                text=msg.get("text"),
                **common,
            )
        attachments = as_list(msg.get("attachments"), "attachments")
        if attachments:
            first = as_dict(attachments[0], "attachment")
            att_type = str(first.get("type", "unknown"))
            payload = first.get("payload") or {}
            if att_type == "location" and isinstance(payload.get("coordinates"), dict):
                coords = payload["coordinates"]
                location = {"lat": coords.get("lat"), "lon": coords.get("long"), "label": first.get("title")}
                return build_event(
                    event_key=mid,
                    kind="location",
                    raw_type="attachment:location",
                    location=location,
                    **common,
                )
            kind = _ATTACHMENT_KIND.get(att_type, "unsupported")
            media = [
                MediaRef(url=(a.get("payload") or {}).get("url"))
                for a in attachments
                if isinstance(a, dict) and a.get("type") == att_type
            ]
            return build_event(
                event_key=mid,
                kind=kind,
                raw_type=f"attachment:{att_type}",
                media=media if kind != "unsupported" else [],
                text=msg.get("text"),
                **common,
            )
        if "text" in msg:
            return build_event(event_key=mid, kind="text", raw_type="message", text=msg["text"], **common)
        return build_event(event_key=mid, kind="unsupported", raw_type="message:unknown", **common)
    if isinstance(item.get("postback"), dict):
        pb = item["postback"]
        key = pb.get("mid") or f"postback:{sender}:{item['timestamp']}"
        return build_event(
            event_key=key,
            kind="postback",
            raw_type="postback",
            postback=need(pb, "payload", where="postback"),
            text=pb.get("title"),
            **common,
        )
    if isinstance(item.get("read"), dict):
        watermark = need(item["read"], "watermark", (int, float), "read")
        return build_event(event_key=f"read:{sender}:{watermark}", kind="read", raw_type="read", **common)
    if isinstance(item.get("delivery"), dict):
        delivery = item["delivery"]
        watermark = need(delivery, "watermark", (int, float), "delivery")
        return build_event(
            event_key=f"delivery:{sender}:{watermark}",
            kind="delivery",
            raw_type="delivery",
            related_message_ids=[str(m) for m in as_list(delivery.get("mids"), "mids")],
            **common,
        )
    raw = next((k for k in item if k not in ("sender", "recipient", "timestamp")), "unknown")
    return build_event(
        event_key=f"{raw}:{sender}:{item['timestamp']}", kind="unsupported", raw_type=raw, **common
    )


SPEC = ChannelSpec(
    name="messenger",
    secrets=("MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN", "MESSENGER_PAGE_TOKEN"),
    api_base_setting="MESSENGER_API_BASE",
    policy=ChannelPolicy(
        max_text=2000,
        max_quick_replies=13,
        max_quick_reply_title=20,
        max_quick_reply_payload=1000,
        max_media_bytes={"image": 25 * MB, "audio": 25 * MB, "video": 25 * MB, "file": 25 * MB},
        service_window=timedelta(hours=24),
        tag_windows={
            "HUMAN_AGENT": timedelta(days=7),
            "ACCOUNT_UPDATE": None,
            "CONFIRMED_EVENT_UPDATE": None,
            "POST_PURCHASE_UPDATE": None,
        },
    ),
    sent_id=lambda answer: answer.get("message_id"),
)


class MessengerAdapter:
    spec: ClassVar[ChannelSpec] = SPEC

    def verify(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> None:
        verify_meta_signature(request, secret(secrets, "MESSENGER_APP_SECRET"))

    def handshake(self, request: WebhookRequest, secrets: Secrets) -> tuple[int, str]:
        return meta_handshake(request, secret(secrets, "MESSENGER_VERIFY_TOKEN"))

    def parse(
        self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
    ) -> list[InboundEvent]:
        payload = as_dict(load_json(request.body), "body")
        if payload.get("object") != "page":
            raise MalformedPayload("object is not page")
        events: list[InboundEvent] = []
        for entry in need(payload, "entry", list, "body"):
            entry = as_dict(entry, "entry")
            page_id = str(entry.get("id", ""))
            for item in as_list(entry.get("messaging"), "messaging"):
                events.append(_item_event(as_dict(item, "messaging"), page_id))
        return events

    def prepare_send(
        self, message: OutboundMessage, secrets: Secrets, *, access_token: str | None = None
    ) -> list[HttpCall]:
        if message.template:
            raise PolicyViolation("template_unsupported", "Messenger has no WhatsApp-style templates")
        token = access_token or secret(secrets, "MESSENGER_PAGE_TOKEN")
        base = api_base(secrets, "MESSENGER_API_BASE", DEFAULT_API_BASE)
        url = f"{base}/me/messages?access_token={quote(token, safe='')}"
        envelope: dict[str, Any] = {"recipient": {"id": message.recipient_id}}
        if message.message_tag:
            envelope.update(messaging_type="MESSAGE_TAG", tag=message.message_tag)
        else:
            envelope["messaging_type"] = "RESPONSE"
        bodies: list[dict[str, Any]] = []
        if message.media:  # an attachment cannot share a message with text
            att_type = message.media.type
            payload = (
                {"attachment_id": message.media.media_id}
                if message.media.media_id
                else {"url": message.media.url, "is_reusable": True}
            )
            bodies.append({"attachment": {"type": att_type, "payload": payload}})
        if message.text or not bodies:
            body: dict[str, Any] = {"text": message.text or ""}
            if message.quick_replies:
                body["quick_replies"] = [
                    {"content_type": "text", "title": qr.title, "payload": qr.payload}
                    for qr in message.quick_replies
                ]
            bodies.append(body)
        elif message.quick_replies:
            bodies[-1]["quick_replies"] = [
                {"content_type": "text", "title": qr.title, "payload": qr.payload}
                for qr in message.quick_replies
            ]
        headers = {"Content-Type": "application/json"}
        return [
            HttpCall(channel="messenger", url=url, headers=headers, json={**envelope, "message": b})
            for b in bodies
        ]
