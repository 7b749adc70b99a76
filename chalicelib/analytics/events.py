"""Versioned pydantic models of interaction events and the single parser ``parse_event``.

Every event carries ``schema_version``, a deterministic ``event_id`` (a hash of the event type and
its natural key, e.g. the message id, so a replayed event gets the same id and dedupes), the
``event_type`` discriminator, ``ts`` (UTC, serialised as ISO-8601 with ``Z``), ``conversation_id``,
``customer_pid`` (a pseudonym from ``redact.pseudonymise``; raw ``customer_id`` is rejected) and
``channel``. Free-text fields (``comment``, ``reason``) are redacted on validation. The flat field
names are unique across types so the archive reads as one wide table (see ``COLUMNS``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_serializer,
    field_validator,
    model_validator,
)

from chalicelib.channels.registry import ALL_CHANNELS

from .redact import redact_text

SCHEMA_VERSION: Literal[1] = 1



def _known_channel(name: str) -> str:
    if name not in ALL_CHANNELS:
        raise ValueError(f"unknown channel {name!r}")
    return name


# Every channel a stored message can carry: the socket channels and the registry's webhook channels.
Channel = Annotated[str, AfterValidator(_known_channel)]
SenderType = Literal["customer", "bot", "agent", "system"]
PID_PATTERN = r"^[0-9a-f]{16,64}$"


def make_event_id(event_type: str, *parts: object) -> str:
    """Deterministic event id: sha256 over the event type and its natural key, 32 hex chars."""
    raw = "\x1f".join([event_type, *(str(p) for p in parts)])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def format_ts(ts: datetime) -> str:
    """UTC ISO-8601 with microseconds and ``Z`` (the one format written to the archive)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BaseEvent(BaseModel):
    """Fields shared by every interaction event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Type-specific fields (besides conversation_id, ts) that identify the event in its source.
    natural_key: ClassVar[tuple[str, ...]] = ()
    free_text_fields: ClassVar[tuple[str, ...]] = ()

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str = Field(default="", max_length=128)
    event_type: str
    ts: datetime
    conversation_id: str = Field(min_length=1, max_length=256)
    customer_pid: str = Field(pattern=PID_PATTERN)
    channel: Channel

    @model_validator(mode="before")
    @classmethod
    def _check_and_redact(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        if "customer_id" in data:
            raise ValueError("raw customer_id is not allowed in events; pseudonymise it to customer_pid")
        texts = {f: redact_text(data[f]) for f in cls.free_text_fields if isinstance(data.get(f), str)}
        return {**data, **texts} if texts else data

    @field_validator("ts")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _derive_event_id(self) -> BaseEvent:
        if not self.event_id:
            key = self.natural_key
            parts = [getattr(self, f) for f in key] if key else [format_ts(self.ts)]
            object.__setattr__(self, "event_id", make_event_id(self.event_type, self.conversation_id, *parts))
        return self

    @field_serializer("ts")
    def _ser_ts(self, value: datetime) -> str:
        return format_ts(value)


class _MessageEvent(BaseEvent):
    natural_key: ClassVar[tuple[str, ...]] = ("message_id",)
    sender_type: SenderType
    message_id: str = Field(min_length=1, max_length=256)
    seq: int = Field(ge=0)
    text_length: int = Field(ge=0)
    language: str | None = Field(default=None, max_length=16)


class MessageIn(_MessageEvent):
    event_type: Literal["message_in"] = "message_in"


class MessageOut(_MessageEvent):
    event_type: Literal["message_out"] = "message_out"


class BotDecision(BaseEvent):
    event_type: Literal["bot_decision"] = "bot_decision"
    natural_key: ClassVar[tuple[str, ...]] = ("message_id",)
    free_text_fields: ClassVar[tuple[str, ...]] = ("reason",)
    message_id: str = Field(min_length=1, max_length=256, description="the customer message decided on")
    intent: str | None = Field(default=None, max_length=128)
    confidence: float = Field(ge=0.0, le=1.0)
    sentiment: Literal["positive", "neutral", "negative"] | None = None
    action: Literal["answer", "suggest", "handoff", "fallback"]
    reason: str | None = Field(default=None, max_length=1000)


class Handoff(BaseEvent):
    event_type: Literal["handoff"] = "handoff"
    free_text_fields: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str = Field(max_length=1000)


class QueueWait(BaseEvent):
    event_type: Literal["queue_wait"] = "queue_wait"
    wait_seconds: float = Field(ge=0)


class Assignment(BaseEvent):
    event_type: Literal["assignment"] = "assignment"
    natural_key: ClassVar[tuple[str, ...]] = ("agent_id", "ts")
    agent_id: str = Field(min_length=1, max_length=256)
    wait_seconds: float = Field(ge=0)


class AgentReply(BaseEvent):
    event_type: Literal["agent_reply"] = "agent_reply"
    natural_key: ClassVar[tuple[str, ...]] = ("message_id",)
    agent_id: str = Field(min_length=1, max_length=256)
    message_id: str = Field(min_length=1, max_length=256)
    first_response: bool = False


class Transfer(BaseEvent):
    event_type: Literal["transfer"] = "transfer"
    free_text_fields: ClassVar[tuple[str, ...]] = ("reason",)
    from_agent_id: str | None = Field(default=None, max_length=256)
    to_agent_id: str | None = Field(default=None, max_length=256)
    to_queue: str | None = Field(default=None, max_length=256)
    reason: str | None = Field(default=None, max_length=1000)


class Resolution(BaseEvent):
    event_type: Literal["resolution"] = "resolution"
    resolved_by: Literal["bot", "agent"]
    agent_id: str | None = Field(default=None, max_length=256)
    handle_seconds: float = Field(ge=0)


class ConversationClosed(BaseEvent):
    event_type: Literal["conversation_closed"] = "conversation_closed"
    abandoned: bool = False


class Csat(BaseEvent):
    event_type: Literal["csat"] = "csat"
    natural_key: ClassVar[tuple[str, ...]] = ("score",)
    free_text_fields: ClassVar[tuple[str, ...]] = ("comment",)
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class Nps(BaseEvent):
    event_type: Literal["nps"] = "nps"
    natural_key: ClassVar[tuple[str, ...]] = ("score",)
    score: int = Field(ge=0, le=10)


class TicketChange(BaseEvent):
    event_type: Literal["ticket_change"] = "ticket_change"
    natural_key: ClassVar[tuple[str, ...]] = ("ticket_id", "from_status", "to_status", "ts")
    ticket_id: str = Field(min_length=1, max_length=256)
    from_status: str | None = Field(default=None, max_length=64)
    to_status: str = Field(max_length=64)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


class SlaBreach(BaseEvent):
    event_type: Literal["sla_breach"] = "sla_breach"
    natural_key: ClassVar[tuple[str, ...]] = ("ticket_id", "kind")
    ticket_id: str = Field(min_length=1, max_length=256)
    kind: Literal["first_response", "resolution"]


class TicketConfirmationEvent(BaseEvent):
    """Issue 16: the customer was asked whether their solved ticket is solved, and what they answered."""

    event_type: Literal["ticket_confirmation"] = "ticket_confirmation"
    natural_key: ClassVar[tuple[str, ...]] = ("ticket_id", "outcome", "ts")
    ticket_id: str = Field(min_length=1, max_length=256)
    outcome: Literal["asked", "confirmed", "reopened"]


class CampaignRecipientEvent(BaseEvent):
    """Issue 16: a campaign recipient's state changed (queued, skipped, sent, delivered, read, failed, replied).

    One event per recipient and state (the id is derived from the campaign, the customer's pseudonym
    and the state). ``conversation_id`` is the campaign message's conversation once it exists, else
    the campaign id (as ``ticket_change`` falls back to the ticket id). ``reason``: why a recipient was
    skipped or failed (a code, never text from the customer).
    """

    event_type: Literal["campaign_recipient"] = "campaign_recipient"
    natural_key: ClassVar[tuple[str, ...]] = ("campaign_id", "customer_pid", "campaign_state")
    free_text_fields: ClassVar[tuple[str, ...]] = ("reason",)
    campaign_id: str = Field(min_length=1, max_length=128)
    campaign_state: Literal["queued", "skipped", "sent", "delivered", "read", "failed", "replied"]
    reason: str | None = Field(default=None, max_length=1000)


InteractionEvent = Annotated[
    MessageIn
    | MessageOut
    | BotDecision
    | Handoff
    | QueueWait
    | Assignment
    | AgentReply
    | Transfer
    | Resolution
    | ConversationClosed
    | Csat
    | Nps
    | TicketChange
    | SlaBreach
    | TicketConfirmationEvent
    | CampaignRecipientEvent,
    Field(discriminator="event_type"),
]

EVENT_TYPES: dict[str, type[BaseEvent]] = {
    m.model_fields["event_type"].default: m
    for m in (
        MessageIn,
        MessageOut,
        BotDecision,
        Handoff,
        QueueWait,
        Assignment,
        AgentReply,
        Transfer,
        Resolution,
        ConversationClosed,
        Csat,
        Nps,
        TicketChange,
        SlaBreach,
        TicketConfirmationEvent,
        CampaignRecipientEvent,
    )
}

_ADAPTER: TypeAdapter[Any] = TypeAdapter(InteractionEvent)


def parse_event(data: dict[str, Any]) -> BaseEvent:
    """Validate a dict into the matching event model (raises ``pydantic.ValidationError``)."""
    event: BaseEvent = _ADAPTER.validate_python(data)
    return event


def parse_event_json(raw: str | bytes) -> BaseEvent:
    """Validate a JSON document into the matching event model."""
    event: BaseEvent = _ADAPTER.validate_json(raw)
    return event


def to_json(event: BaseEvent) -> str:
    """Compact JSON of an event without null fields (what is written to Kinesis and S3)."""
    return event.model_dump_json(exclude_none=True)


# Archive columns (name -> SQL type shared by Athena/Glue and DuckDB), in a stable order.
COLUMNS: dict[str, str] = {
    "schema_version": "INTEGER",
    "event_id": "VARCHAR",
    "event_type": "VARCHAR",
    "ts": "VARCHAR",
    "conversation_id": "VARCHAR",
    "customer_pid": "VARCHAR",
    "channel": "VARCHAR",
    "sender_type": "VARCHAR",
    "message_id": "VARCHAR",
    "seq": "BIGINT",
    "text_length": "INTEGER",
    "language": "VARCHAR",
    "intent": "VARCHAR",
    "confidence": "DOUBLE",
    "sentiment": "VARCHAR",
    "action": "VARCHAR",
    "reason": "VARCHAR",
    "wait_seconds": "DOUBLE",
    "agent_id": "VARCHAR",
    "first_response": "BOOLEAN",
    "from_agent_id": "VARCHAR",
    "to_agent_id": "VARCHAR",
    "to_queue": "VARCHAR",
    "resolved_by": "VARCHAR",
    "handle_seconds": "DOUBLE",
    "abandoned": "BOOLEAN",
    "score": "INTEGER",
    "comment": "VARCHAR",
    "ticket_id": "VARCHAR",
    "from_status": "VARCHAR",
    "to_status": "VARCHAR",
    "priority": "VARCHAR",
    "kind": "VARCHAR",
    "outcome": "VARCHAR",  # issue 16: ticket_confirmation
    "campaign_id": "VARCHAR",  # issue 16: campaign_recipient
    "campaign_state": "VARCHAR",
}
