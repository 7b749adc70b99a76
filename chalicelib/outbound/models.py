"""The outbound job: one stored message to deliver on one social channel (the SQS message body)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.channels.models import OutboundMedia, OutboundMessage, QuickReply, Template

if TYPE_CHECKING:
    from chalicelib.core.models import Message
    from chalicelib.store.delivery_store import ReplyRoute

_MEDIA_TYPES = {"image", "file", "audio", "video"}


class OutboundJob(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = 1
    message_id: str = Field(min_length=1)
    conversation_id: str = Field(min_length=1)
    seq: int
    customer_id: str
    sender_type: str
    channel: str
    recipient_id: str = Field(min_length=1)
    reply_context: dict[str, str] = Field(default_factory=dict)
    text: str | None = None
    media: OutboundMedia | None = None
    quick_replies: list[QuickReply] = Field(default_factory=list)
    template: Template | None = None
    message_tag: str | None = None
    last_customer_ms: int | None = None
    created_ms: int

    def outbound_message(self) -> OutboundMessage:
        return OutboundMessage(channel=self.channel, recipient_id=self.recipient_id, text=self.text,
                               quick_replies=self.quick_replies, media=self.media, template=self.template,
                               message_tag=self.message_tag, reply_context=self.reply_context)


def _media(attachments: list[dict[str, Any]] | None) -> OutboundMedia | None:
    for attachment in attachments or []:
        if attachment.get("type") in _MEDIA_TYPES and (attachment.get("url") or attachment.get("media_id")):
            return OutboundMedia(type=attachment["type"], url=attachment.get("url"),
                                 media_id=attachment.get("media_id"), file_name=attachment.get("file_name"),
                                 size_bytes=attachment.get("size_bytes") or attachment.get("size"))
    return None


def job_from_message(message: Message, route: ReplyRoute) -> OutboundJob:
    """The job for `message` on the conversation's reply route.

    Optional sender hints in `message.meta`: `quick_replies` ([{title, payload}]), `template`
    ({name, language, params}) and `message_tag` (Messenger, e.g. HUMAN_AGENT).
    """
    meta = message.meta or {}
    return OutboundJob(
        message_id=message.message_id, conversation_id=message.conversation_id, seq=message.seq,
        customer_id=route.customer_id, sender_type=message.sender.type, channel=route.channel,
        recipient_id=route.external_id, reply_context=route.reply_context, text=message.text,
        media=_media(message.attachments),
        quick_replies=[QuickReply.model_validate(q) for q in meta.get("quick_replies") or []],
        template=Template.model_validate(meta["template"]) if meta.get("template") else None,
        message_tag=meta.get("message_tag"), last_customer_ms=route.last_customer_ms.get(route.channel),
        created_ms=message.ts_ms,
    )
