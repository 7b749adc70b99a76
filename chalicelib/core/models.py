"""The platform's shared domain types: messages, senders, conversations, customers, and the outcome
of appending a message. Every package uses these; they depend on nothing in the project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SenderType = Literal["customer", "bot", "agent", "system"]
MessageKind = Literal[
    "text", "image", "file", "audio", "video", "location", "postback", "event", "unsupported"
]
Visibility = Literal["public", "internal"]
ConversationStatus = Literal["open", "closed"]


class Sender(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: SenderType
    id: str
    name: str | None = None


# Keys of `meta` that clients see (everything else in `meta` is internal: bot scores, platform ids).
PUBLIC_META_KEYS: tuple[str, ...] = ("quick_replies",)
# -- clients: what the SDK turns into queue / agent / survey events, so they survive a reconnect
# (resync replays messages, not the `queue` frames sent while the socket was down). Agents by name only.
PUBLIC_META_KEYS += ("queue", "routing", "csat")
# -- issue 16: the ticket a ticket-loop message is about (the SDK can link it to the `tickets` list)
PUBLIC_META_KEYS += ("ticket",)


class MessageDraft(BaseModel):
    """A message before the store gives it an id, a seq and a timestamp."""

    sender: Sender
    channel: str
    kind: MessageKind = "text"
    text: str | None = None
    attachments: list[dict[str, Any]] | None = None
    client_msg_id: str | None = None
    visibility: Visibility = "public"
    meta: dict[str, Any] | None = None


class Message(MessageDraft):
    """One stored message. `seq` increases per conversation; gaps are possible, order is not."""

    model_config = ConfigDict(extra="ignore")

    message_id: str
    conversation_id: str
    seq: int
    ts: str
    ts_ms: int

    def public_view(self) -> dict[str, Any]:
        """What a customer's client may see (no internal metadata)."""
        view = self.model_dump(exclude={"ts_ms", "meta"}, exclude_none=True)
        # -- bot: the few meta keys a client renders (quick replies under the bot's suggestion) --
        public_meta = {k: self.meta[k] for k in PUBLIC_META_KEYS if self.meta and self.meta.get(k)}
        if self.meta and isinstance(self.meta.get("agent"), dict) and self.meta["agent"].get("name"):
            public_meta["agent"] = {"name": self.meta["agent"]["name"]}
        if public_meta:
            view["meta"] = public_meta
        return view


class Conversation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_id: str
    customer_id: str
    status: ConversationStatus
    channel: str
    created_ms: int
    closed_ms: int | None = None
    close_reason: str | None = None


class Customer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer_id: str
    name: str | None = None
    vip: bool = False
    language: str | None = None
    created_ms: int


class ConversationClosed(Exception):
    """The conversation no longer accepts messages."""


@dataclass(frozen=True)
class AppendResult:
    message: Message
    duplicate: bool
    # a duplicate whose effects have all happened (nothing for a retry to resume)
    effects_done: bool = False


@dataclass(frozen=True)
class DedupKey:
    """Identity of an inbound message as its sender knows it (client_msg_id, platform message id)."""

    scope: str
    key: str | tuple[str, ...]  # a tuple joins several ids, each escaped (store.keys.dedup_pk)
