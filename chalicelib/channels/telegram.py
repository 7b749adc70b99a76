"""Telegram Bot API adapter.

Telegram does not sign bodies: ``setWebhook(secret_token=…)`` makes it send
``X-Telegram-Bot-Api-Secret-Token`` which must equal ``TELEGRAM_SECRET_TOKEN``
(compared in constant time). Each POST is one ``Update`` (dedup on ``update_id``):
``message``/``edited_message`` (text, photo, document, audio/voice, video, location),
``callback_query`` (inline-keyboard button → ``postback``) and ``my_chat_member``
(bot blocked/unblocked → ``unfollow``/``follow``). Sends use ``sendMessage`` (and
``sendPhoto``/``sendDocument``/… for media) with an inline keyboard for quick replies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from .base import (
    Secrets,
    api_base,
    as_dict,
    build_event,
    constant_time_equal,
    from_unix,
    load_json,
    mapping,
    need,
    secret,
    utcnow,
)
from .errors import SignatureError
from .models import HttpCall, InboundEvent, MediaRef, OutboundMessage, WebhookRequest
from .policies import MB, ChannelPolicy
from .spec import ChannelSpec

if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_MEDIA_FIELDS = (("document", "file"), ("audio", "audio"), ("voice", "audio"), ("video", "video"))
_SEND_MEDIA = {
    "image": ("sendPhoto", "photo"),
    "file": ("sendDocument", "document"),
    "audio": ("sendAudio", "audio"),
    "video": ("sendVideo", "video"),
}


def _user_fields(user: object) -> dict[str, Any]:
    user = as_dict(user, "from")
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p) or user.get("username")
    return {"external_user_id": need(user, "id", where="from"), "profile_name": name}


def _message_event(update_id: str, msg: dict[str, Any], raw_prefix: str) -> InboundEvent:
    chat = as_dict(msg.get("chat"), "chat")
    fields: dict[str, Any] = {
        "channel": "telegram",
        "event_key": update_id,
        "platform_ts": from_unix(need(msg, "date", int, "message")),
        "reply_context": {
            "chat_id": need(chat, "id", where="chat"),
            "message_id": need(msg, "message_id", where="message"),
            "chat_type": str(chat.get("type", "")),
        },
        **_user_fields(msg.get("from") or chat),
    }
    caption = msg.get("caption")
    if isinstance(msg.get("text"), str):
        return build_event(kind="text", raw_type=f"{raw_prefix}:text", text=msg["text"], **fields)
    if isinstance(msg.get("photo"), list) and msg["photo"]:
        largest = max(msg["photo"], key=lambda p: (p.get("file_size") or 0, p.get("width") or 0))
        media = MediaRef(media_id=need(largest, "file_id", where="photo"), size=largest.get("file_size"))
        return build_event(
            kind="image", raw_type=f"{raw_prefix}:photo", media=[media], text=caption, **fields
        )
    for key, kind in _MEDIA_FIELDS:
        if isinstance(msg.get(key), dict):
            obj = msg[key]
            media = MediaRef(
                media_id=need(obj, "file_id", where=key),
                mime_type=obj.get("mime_type"),
                file_name=obj.get("file_name"),
                size=obj.get("file_size"),
            )
            return build_event(
                kind=kind, raw_type=f"{raw_prefix}:{key}", media=[media], text=caption, **fields
            )
    if isinstance(msg.get("location"), dict):
        loc = msg["location"]
        venue = mapping(msg.get("venue"))
        location = {
            "lat": need(loc, "latitude", (int, float), "location"),
            "lon": need(loc, "longitude", (int, float), "location"),
            "label": venue.get("title"),
            "address": venue.get("address"),
        }
        return build_event(kind="location", raw_type=f"{raw_prefix}:location", location=location, **fields)
    known = ("message_id", "from", "chat", "date", "caption", "edit_date", "entities")
    raw = next((k for k in msg if k not in known), "unknown")
    return build_event(kind="unsupported", raw_type=f"{raw_prefix}:{raw}", **fields)


def _callback_event(update_id: str, cq: dict[str, Any], now: datetime) -> InboundEvent:
    msg = mapping(cq.get("message"))
    chat = mapping(msg.get("chat"))
    user = _user_fields(cq.get("from"))
    reply_context = {"callback_query_id": need(cq, "id", where="callback_query")}
    reply_context["chat_id"] = str(chat.get("id", user["external_user_id"]))
    if msg.get("message_id") is not None:
        reply_context["message_id"] = str(msg["message_id"])
    return build_event(
        channel="telegram",
        event_key=update_id,
        kind="postback",
        raw_type="callback_query",
        postback=str(cq.get("data") or ""),
        platform_ts=now,  # callback queries carry no timestamp of their own
        reply_context=reply_context,
        **user,
    )


def _member_event(update_id: str, upd: dict[str, Any]) -> InboundEvent:
    chat = as_dict(upd.get("chat"), "chat")
    status = str((upd.get("new_chat_member") or {}).get("status", ""))
    kind = {"kicked": "unfollow", "member": "follow"}.get(status, "unsupported")
    return build_event(
        channel="telegram",
        event_key=update_id,
        kind=kind,
        raw_type=f"my_chat_member:{status}",
        platform_ts=from_unix(need(upd, "date", int, "my_chat_member")),
        reply_context={"chat_id": need(chat, "id", where="chat")},
        **_user_fields(upd.get("from")),
    )


SPEC = ChannelSpec(
    name="telegram",
    secrets=("TELEGRAM_SECRET_TOKEN", "TELEGRAM_BOT_TOKEN"),
    api_base_setting="TELEGRAM_API_BASE",
    policy=ChannelPolicy(
        max_text=4096,
        text_unit="utf16",
        max_caption=1024,
        max_quick_replies=100,
        max_quick_reply_title=64,
        max_quick_reply_payload=64,
        quick_reply_payload_unit="utf8",
        max_media_bytes={"image": 5 * MB, "audio": 20 * MB, "video": 20 * MB, "file": 20 * MB},
    ),
    sent_id=lambda answer: answer["result"].get("message_id") if isinstance(answer.get("result"), dict) else None,
)


class TelegramAdapter:
    spec: ClassVar[ChannelSpec] = SPEC

    def verify(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> None:
        expected = secret(secrets, "TELEGRAM_SECRET_TOKEN")
        provided = request.header(SECRET_HEADER)
        if not provided:
            raise SignatureError(f"missing {SECRET_HEADER}", status=401)
        if not constant_time_equal(expected, provided):
            raise SignatureError("secret token mismatch")

    def handshake(self, request: WebhookRequest, secrets: Secrets) -> tuple[int, str]:
        return 405, "telegram has no GET handshake (use setWebhook)"

    def parse(
        self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
    ) -> list[InboundEvent]:
        update = as_dict(load_json(request.body), "body")
        update_id = str(need(update, "update_id", int, "update"))
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if isinstance(update.get(key), dict):
                return [_message_event(update_id, update[key], key)]
        if isinstance(update.get("callback_query"), dict):
            return [_callback_event(update_id, update["callback_query"], utcnow(now))]
        if isinstance(update.get("my_chat_member"), dict):
            return [_member_event(update_id, update["my_chat_member"])]
        raw = next((k for k in update if k != "update_id"), "unknown")
        body = mapping(update.get(raw))
        user = body.get("from") if isinstance(body.get("from"), dict) else None
        if user is None:
            return []  # e.g. poll updates: nothing to attribute to a customer
        return [
            build_event(
                channel="telegram",
                event_key=update_id,
                kind="unsupported",
                raw_type=raw,
                platform_ts=utcnow(now),
                **_user_fields(user),
            )
        ]

    def prepare_send(
        self, message: OutboundMessage, secrets: Secrets, *, access_token: str | None = None
    ) -> list[HttpCall]:
        token = access_token or secret(secrets, "TELEGRAM_BOT_TOKEN")
        base = api_base(secrets, "TELEGRAM_API_BASE", DEFAULT_API_BASE)
        chat_id = message.reply_context.get("chat_id") or message.recipient_id
        payload: dict[str, Any] = {"chat_id": chat_id}
        if message.media:
            method, field = _SEND_MEDIA[message.media.type]
            payload[field] = message.media.media_id or message.media.url
            if message.text:
                payload["caption"] = message.text
        else:
            method = "sendMessage"
            payload["text"] = message.text or ""
        if message.quick_replies:
            payload["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": qr.title, "callback_data": qr.payload}] for qr in message.quick_replies
                ]
            }
        url = f"{base}/bot{quote(token, safe=':')}/{method}"
        return [
            HttpCall(channel="telegram", url=url, headers={"Content-Type": "application/json"}, json=payload)
        ]
