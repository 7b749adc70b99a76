"""Typed domain events: what happened, said once by the domain that made it happen.

A domain publishes an event on the `EventBus` (`chalicelib.core.bus`) instead of calling the next
domain; the subscriptions table in the composition root says who reacts, in what order. Events are
plain frozen values: they carry ids and figures, never services. Analytics turns them into
interaction-stream records in one subscriber (`chalicelib.analytics.subscriber`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from chalicelib.core.models import Message


@dataclass(frozen=True, kw_only=True)
class MessageStored:
    """A message was stored; its effects (fan-out, agent relay, surveys, bot, outbound, analytics)
    follow from the effects queue, in the conversation's order.

    `redelivered`: these effects may have run before, wholly or in part (a retried webhook or frame
    found the message already stored, or SQS delivered the record again); every subscriber is
    idempotent per message id, and those that need it look up what the earlier attempt did.
    `origin_connection`: the sender's own socket, which gets an ack instead of the message.
    """

    message: Message
    redelivered: bool = False
    origin_connection: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConversationEvent:
    """Something that happened to one conversation of one customer, at `ts_ms` (platform clock)."""

    conversation_id: str
    customer_id: str
    channel: str
    ts_ms: int


@dataclass(frozen=True, kw_only=True)
class HandoffRequested(ConversationEvent):
    """A customer or a supervisor asked for a person (the bot's own handoffs are bot messages)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class EscalatedOutOfHours:
    """A customer asked for a person while the desk was closed; the next shift needs a ticket."""

    conversation_id: str
    customer_id: str
    reason: str
    urgent: bool
    skills: tuple[str, ...]
    idempotency_key: str


@dataclass(frozen=True, kw_only=True)
class AgentAssigned(ConversationEvent):
    agent_id: str
    wait_seconds: float


@dataclass(frozen=True, kw_only=True)
class AgentReplied(ConversationEvent):
    agent_id: str
    message_id: str
    first_response: bool


@dataclass(frozen=True, kw_only=True)
class ConversationTransferred(ConversationEvent):
    from_agent_id: str | None
    to_agent_id: str | None = None
    to_queue: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConversationResolved(ConversationEvent):
    resolved_by: Literal["agent", "bot"]
    agent_id: str | None
    handle_seconds: float


@dataclass(frozen=True, kw_only=True)
class ConversationEnded(ConversationEvent):
    """The conversation closed; `abandoned` when the customer left while waiting for a person."""

    abandoned: bool


@dataclass(frozen=True, kw_only=True)
class ConversationRated(ConversationEvent):
    score: int | None
    nps: int | None
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class TicketChanged:
    """A ticket was created or changed status (`from_status` None on creation)."""

    ticket_id: str
    conversation_id: str | None
    customer_id: str | None
    channel: str | None
    ts_ms: int
    from_status: str | None
    to_status: str
    priority: str


SlaKind = Literal["first_response", "resolution"]


@dataclass(frozen=True, kw_only=True)
class SlaBreached:
    ticket_id: str
    conversation_id: str | None
    customer_id: str | None
    channel: str | None
    ts_ms: int
    kind: SlaKind


# -- issue 16: the ticket loop with the customer ------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TicketCommented:
    """A comment was added to a ticket; `public` ones are meant for the customer."""

    ticket_id: str
    comment_id: str
    conversation_id: str | None
    customer_id: str | None
    channel: str | None
    ts_ms: int
    public: bool
    text: str


TicketLoopOutcome = Literal["asked", "confirmed", "reopened"]


@dataclass(frozen=True, kw_only=True)
class TicketConfirmation:
    """The customer was asked whether their solved ticket is solved (`asked`), and what they answered."""

    ticket_id: str
    customer_id: str
    conversation_id: str
    channel: str
    ts_ms: int
    outcome: TicketLoopOutcome


# -- issue 16: outreach campaigns and what became of their messages --------------------------------


@dataclass(frozen=True, kw_only=True)
class DeliveryChanged:
    """A sent message's delivery moved forward (a platform receipt, or the outbound consumer's final
    `failed` / `refused`): published once per move, by whoever made the conditional write that moved it.

    `campaign_id`: the campaign the message belongs to (its `meta`), if any. `error_code`: why it
    failed (the consumer's error code, or `platform_failed` for a platform's failure receipt).
    """

    conversation_id: str
    seq: int
    message_id: str | None
    channel: str
    status: str  # delivered | read | failed | refused
    ts_ms: int
    customer_id: str | None = None
    campaign_id: str | None = None
    error_code: str | None = None


CampaignRecipientState = Literal["queued", "skipped", "sent", "delivered", "read", "failed", "replied"]


@dataclass(frozen=True, kw_only=True)
class CampaignRecipientChanged:
    """A campaign recipient moved to `state` (published once per move, after the conditional write).

    `reason`: why a recipient was skipped (`opted_out`, `not_in_segment`, ...) or failed (`no_identity_on_channel`,
    a platform's error code, ...). `conversation_id`: where the campaign message went, once it exists
    (the reply's conversation for `replied`); `customer_id` None: the conversation's customer.
    """

    campaign_id: str
    customer_id: str | None
    channel: str
    state: CampaignRecipientState
    ts_ms: int
    reason: str | None = None
    conversation_id: str | None = None


DomainEvent = (MessageStored | HandoffRequested | EscalatedOutOfHours | AgentAssigned | AgentReplied
               | ConversationTransferred | ConversationResolved | ConversationEnded | ConversationRated
               | TicketChanged | SlaBreached | TicketCommented | TicketConfirmation | DeliveryChanged
               | CampaignRecipientChanged)
