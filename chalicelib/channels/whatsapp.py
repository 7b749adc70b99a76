"""WhatsApp Cloud API adapter.

Webhooks are signed with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret,
raw body)>``; the GET handshake echoes ``hub.challenge`` when ``hub.verify_token``
matches. A payload (``object: whatsapp_business_account``) carries ``entry[].changes[]``
whose ``value`` holds ``messages`` (keyed by ``wamid``) and ``statuses`` (sent /
delivered / read / failed, keyed by status id + status). Sends go to
``POST {WHATSAPP_API_BASE}/{phone_number_id}/messages`` with a bearer token.

Senders: ``from`` (the ``wa_id`` phone number) names the customer, as it always did; a user who
chose a WhatsApp username has no phone number in the payload, only the business-scoped user id
(``from_user_id`` on the message, ``user_id`` on the contact, e.g. ``US.1349…``), which then names
them (issue 13: checked against pywa's reading of both payload shapes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from .base import (
    Secrets,
    api_base,
    as_dict,
    as_list,
    build_event,
    from_unix,
    load_json,
    mapping,
    meta_handshake,
    need,
    secret,
    verify_meta_signature,
)
from .errors import ConfigurationError, MalformedPayload
from .models import HttpCall, InboundEvent, MediaRef, OutboundMessage, WebhookRequest
from .policies import MB, ChannelPolicy
from .spec import ChannelSpec

if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_API_BASE = "https://graph.facebook.com/v21.0"

_MEDIA_KIND = {"image": "image", "sticker": "image", "document": "file", "audio": "audio", "video": "video"}
_STATUS_KIND = {"sent": "delivery", "delivered": "delivery", "read": "read", "failed": "delivery"}


def _message_event(msg: dict[str, Any], value: dict[str, Any], names: dict[str, str | None]) -> InboundEvent:
    wa_id = msg.get("from") or msg.get("from_user_id")
    if not isinstance(wa_id, str | int) or isinstance(wa_id, bool) or not str(wa_id):
        raise MalformedPayload("message: missing from (or from_user_id)")
    wa_id = str(wa_id)
    has_phone = bool(msg.get("from"))
    msg_type = need(msg, "type", where="message")
    metadata = value.get("metadata") or {}
    reply_context = {"phone_number_id": str(metadata.get("phone_number_id", ""))}
    if metadata.get("display_phone_number"):
        reply_context["display_phone_number"] = str(metadata["display_phone_number"])
    fields: dict[str, Any] = {
        "channel": "whatsapp",
        "event_key": need(msg, "id", where="message"),
        "external_user_id": wa_id,
        "phone": wa_id if has_phone else None,
        "profile_name": names.get(wa_id),
        "platform_ts": from_unix(need(msg, "timestamp", where="message")),
        "raw_type": msg_type,
        "reply_context": reply_context,
    }
    body = mapping(msg.get(msg_type))
    if msg_type == "text":
        return build_event(kind="text", text=need(body, "body", where="text"), **fields)
    if msg_type in _MEDIA_KIND:
        media = MediaRef(
            media_id=body.get("id"),
            mime_type=body.get("mime_type"),
            file_name=body.get("filename"),
            caption=body.get("caption"),
        )
        return build_event(kind=_MEDIA_KIND[msg_type], media=[media], text=body.get("caption"), **fields)
    if msg_type == "location":
        location = {
            "lat": need(body, "latitude", (int, float), "location"),
            "lon": need(body, "longitude", (int, float), "location"),
            "label": body.get("name"),
            "address": body.get("address"),
        }
        return build_event(kind="location", location=location, **fields)
    if msg_type == "interactive":
        sub_type = str(body.get("type", ""))
        reply = body.get(sub_type) if isinstance(body.get(sub_type), dict) else None
        fields["raw_type"] = f"interactive:{sub_type}"
        if sub_type in ("button_reply", "list_reply") and reply:
            return build_event(
                kind="postback", postback=need(reply, "id", where=sub_type), text=reply.get("title"), **fields
            )
        return build_event(kind="unsupported", **fields)
    if msg_type == "button":  # quick-reply button of a template message
        return build_event(
            kind="postback",
            postback=need(body, "payload", where="button"),
            text=body.get("text"),
            **fields,
        )
    return build_event(kind="unsupported", **fields)


def _status_event(status: dict[str, Any], value: dict[str, Any]) -> InboundEvent:
    state = need(status, "status", where="status")
    status_id = need(status, "id", where="status")
    metadata = value.get("metadata") or {}
    return build_event(
        channel="whatsapp",
        event_key=f"{status_id}:{state}",
        external_user_id=need(status, "recipient_id", where="status"),
        kind=_STATUS_KIND.get(state, "unsupported"),
        raw_type=f"status:{state}",
        status=state,
        related_message_ids=[status_id],
        platform_ts=from_unix(need(status, "timestamp", where="status")),
        text=str(status["errors"]) if status.get("errors") else None,
        reply_context={"phone_number_id": str(metadata.get("phone_number_id", ""))},
    )


def _interactive(message: OutboundMessage) -> dict[str, Any]:
    return {
        "type": "button",
        "body": {"text": message.text or " "},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": qr.payload, "title": qr.title}}
                for qr in message.quick_replies[:3]
            ]
        },
    }


def _template(message: OutboundMessage) -> dict[str, Any]:
    tpl = message.template
    assert tpl is not None
    out: dict[str, Any] = {"name": tpl.name, "language": {"code": tpl.language}}
    values = list(tpl.params.values()) if isinstance(tpl.params, dict) else list(tpl.params)
    if values:
        out["components"] = [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]
    return out


def _media(message: OutboundMessage) -> tuple[str, dict[str, Any]]:
    media = message.media
    assert media is not None
    wa_type = "document" if media.type == "file" else media.type
    obj: dict[str, Any] = {"id": media.media_id} if media.media_id else {"link": media.url}
    if message.text and wa_type != "audio":
        obj["caption"] = message.text
    if wa_type == "document" and media.file_name:
        obj["filename"] = media.file_name
    return wa_type, obj


SPEC = ChannelSpec(
    name="whatsapp",
    secrets=("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"),
    api_base_setting="WHATSAPP_API_BASE",
    policy=ChannelPolicy(
        max_text=4096,
        max_text_with_quick_replies=1024,
        max_caption=1024,
        max_quick_replies=3,
        max_quick_reply_title=20,
        max_quick_reply_payload=256,
        max_media_bytes={"image": 5 * MB, "audio": 16 * MB, "video": 16 * MB, "file": 100 * MB},
        service_window=timedelta(hours=24),
        supports_templates=True,
    ),
    sent_id=lambda answer: ((answer.get("messages") or [{}])[0] or {}).get("id"),
)


class WhatsAppAdapter:
    spec: ClassVar[ChannelSpec] = SPEC

    def verify(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> None:
        verify_meta_signature(request, secret(secrets, "WHATSAPP_APP_SECRET"))

    def handshake(self, request: WebhookRequest, secrets: Secrets) -> tuple[int, str]:
        return meta_handshake(request, secret(secrets, "WHATSAPP_VERIFY_TOKEN"))

    def parse(
        self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
    ) -> list[InboundEvent]:
        payload = as_dict(load_json(request.body), "body")
        if payload.get("object") != "whatsapp_business_account":
            raise MalformedPayload("object is not whatsapp_business_account")
        events: list[InboundEvent] = []
        for entry in need(payload, "entry", list, "body"):
            for change in as_list(as_dict(entry, "entry").get("changes"), "changes"):
                change = as_dict(change, "change")
                if change.get("field") != "messages":
                    continue  # account-level notifications (templates, quality) are not conversations
                value = as_dict(change.get("value"), "value")
                names = {
                    str(c.get(field)): (c.get("profile") or {}).get("name")
                    for c in as_list(value.get("contacts"), "contacts") if isinstance(c, dict)
                    for field in ("wa_id", "user_id") if c.get(field)
                }
                for msg in as_list(value.get("messages"), "messages"):
                    events.append(_message_event(as_dict(msg, "message"), value, names))
                for status in as_list(value.get("statuses"), "statuses"):
                    events.append(_status_event(as_dict(status, "status"), value))
        return events

    def prepare_send(
        self, message: OutboundMessage, secrets: Secrets, *, access_token: str | None = None
    ) -> list[HttpCall]:
        phone_number_id = message.reply_context.get("phone_number_id") or secrets.get(
            "WHATSAPP_PHONE_NUMBER_ID"
        )
        if not phone_number_id:
            raise ConfigurationError("no phone_number_id in reply_context or WHATSAPP_PHONE_NUMBER_ID")
        token = access_token or secret(secrets, "WHATSAPP_ACCESS_TOKEN")
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient_id,
        }
        if message.template:
            payload.update(type="template", template=_template(message))
        elif message.media:
            wa_type, obj = _media(message)
            payload.update({"type": wa_type, wa_type: obj})
        elif message.quick_replies:
            payload.update(type="interactive", interactive=_interactive(message))
        else:
            payload.update(type="text", text={"preview_url": False, "body": message.text or ""})
        base = api_base(secrets, "WHATSAPP_API_BASE", DEFAULT_API_BASE)
        return [
            HttpCall(
                channel="whatsapp",
                url=f"{base}/{phone_number_id}/messages",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                json=payload,
            )
        ]
