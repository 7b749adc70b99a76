"""The one analytics subscriber: domain events in, interaction-stream events out.

A stored public message becomes ``message_in`` (customer) or ``message_out`` (bot, agent, system);
a bot message whose ``meta`` carries a decision (``intent``, ``confidence``, ``sentiment``,
``action``; flat or under ``meta["decision"]``/``meta["bot"]``) also a ``bot_decision`` (and a
``handoff`` when its action is ``handoff``). Only lengths and labels leave the platform, never the
text. Internal agent notes are not interactions and are skipped. The other domain events map one
to one (``AgentAssigned`` to ``queue_wait`` + ``assignment``, ``ConversationRated`` to ``csat``
and/or ``nps``, ...). Events carry the raw customer id, which the publisher pseudonymises; for bot
and agent messages it comes from the conversation (cached per container, one GetItem on a miss).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.channels.registry import ALL_CHANNELS
from chalicelib.core.events import (
    AgentAssigned,
    AgentReplied,
    CampaignRecipientChanged,
    ConversationEnded,
    ConversationEvent,
    ConversationRated,
    ConversationResolved,
    ConversationTransferred,
    HandoffRequested,
    MessageStored,
    SlaBreached,
    TicketChanged,
    TicketConfirmation,
)

logger = Logger(child=True)

_ACTIONS = {"answer", "suggest", "handoff", "fallback"}
_SENTIMENTS = {"positive", "neutral", "negative"}


class HasCustomer(Protocol):
    customer_id: str


class InteractionSubscriber:
    def __init__(self, emit: Callable[[Mapping[str, Any]], None],
                 conversation_of: Callable[[str], HasCustomer | None], cache_size: int = 10_000) -> None:
        self._emit = emit
        self._conversation_of = conversation_of
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # -- messages ----------------------------------------------------------------------------

    def on_message_stored(self, event: MessageStored) -> None:
        message = event.message
        if message.visibility != "public":
            return
        if message.sender.type == "customer":
            customer_id: str | None = message.sender.id
            self._remember(message.conversation_id, message.sender.id)
        else:
            customer_id = self._customer(message.conversation_id)
        if customer_id is None:
            logger.warning("no customer for conversation; analytics event skipped")
            return
        common = {"ts": message.ts, "conversation_id": message.conversation_id, "customer_id": customer_id,
                  "channel": message.channel}
        meta = message.meta or {}
        language = meta.get("language") if isinstance(meta.get("language"), str) else None
        self._emit({
            **common,
            "event_type": "message_in" if message.sender.type == "customer" else "message_out",
            "sender_type": message.sender.type, "message_id": message.message_id, "seq": message.seq,
            "text_length": len(message.text or ""), "language": language,
        })
        if message.sender.type == "bot" and (decision := bot_decision(meta)) is not None:
            decided_on = meta.get("in_reply_to") or meta.get("reply_to") or message.message_id
            self._emit({**common, "event_type": "bot_decision", "message_id": str(decided_on), **decision})
            if decision["action"] == "handoff":  # the bot's handover message is the moment of escalation
                self._emit({**common, "event_type": "handoff", "reason": decision["reason"] or "bot handoff"})

    # -- everything else ---------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        if isinstance(event, CampaignRecipientChanged) and event.customer_id is None and event.conversation_id:
            customer_id = self._customer(event.conversation_id)  # a receipt knows the message, not its customer
            if customer_id is None:
                logger.warning("no customer for conversation; campaign event skipped")
                return
            event = replace(event, customer_id=customer_id)
        for record in interaction_records(event):
            self._emit(record)

    def _remember(self, conversation_id: str, customer_id: str) -> None:
        with self._lock:
            self._cache[conversation_id] = customer_id
            self._cache.move_to_end(conversation_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _customer(self, conversation_id: str) -> str | None:
        with self._lock:
            if conversation_id in self._cache:
                self._cache.move_to_end(conversation_id)
                return self._cache[conversation_id]
        conversation = self._conversation_of(conversation_id)
        if conversation is None:
            return None
        self._remember(conversation_id, conversation.customer_id)
        return conversation.customer_id


def interaction_records(event: object) -> list[dict[str, Any]]:
    """The interaction-stream records (dicts of ``chalicelib.analytics.events`` fields) for a domain event."""
    if isinstance(event, TicketChanged | SlaBreached):
        if not event.customer_id:
            return []  # events are per customer (pseudonymised); an anonymous ticket has none
        common = {"ts": ids.iso_from_ms(event.ts_ms), "conversation_id": event.conversation_id or event.ticket_id,
                  "customer_id": event.customer_id, "ticket_id": event.ticket_id,
                  "channel": event.channel if event.channel in ALL_CHANNELS else "generic"}
        if isinstance(event, TicketChanged):
            return [{**common, "event_type": "ticket_change", "from_status": event.from_status,
                     "to_status": event.to_status, "priority": event.priority}]
        return [{**common, "event_type": "sla_breach", "kind": event.kind}]
    if isinstance(event, TicketConfirmation):  # issue 16: the ticket loop with the customer
        return [{"ts": ids.iso_from_ms(event.ts_ms), "conversation_id": event.conversation_id,
                 "customer_id": event.customer_id, "ticket_id": event.ticket_id, "event_type": "ticket_confirmation",
                 "channel": event.channel if event.channel in ALL_CHANNELS else "generic", "outcome": event.outcome}]
    if isinstance(event, CampaignRecipientChanged):  # issue 16: the campaign's delivery report
        if not event.customer_id:
            return []
        return [{"ts": ids.iso_from_ms(event.ts_ms), "conversation_id": event.conversation_id or event.campaign_id,
                 "customer_id": event.customer_id, "event_type": "campaign_recipient",
                 "channel": event.channel if event.channel in ALL_CHANNELS else "generic",
                 "campaign_id": event.campaign_id, "campaign_state": event.state, "reason": event.reason}]
    if not isinstance(event, ConversationEvent):
        return []
    common = {"ts": ids.iso_from_ms(event.ts_ms), "conversation_id": event.conversation_id,
              "customer_id": event.customer_id, "channel": event.channel}
    if isinstance(event, HandoffRequested):
        return [{**common, "event_type": "handoff", "reason": event.reason}]
    if isinstance(event, AgentAssigned):
        return [{**common, "event_type": "queue_wait", "wait_seconds": event.wait_seconds},
                {**common, "event_type": "assignment", "agent_id": event.agent_id, "wait_seconds": event.wait_seconds}]
    if isinstance(event, AgentReplied):
        return [{**common, "event_type": "agent_reply", "agent_id": event.agent_id, "message_id": event.message_id,
                 "first_response": event.first_response}]
    if isinstance(event, ConversationTransferred):
        return [{**common, "event_type": "transfer", "from_agent_id": event.from_agent_id,
                 "to_agent_id": event.to_agent_id, "to_queue": event.to_queue, "reason": event.reason}]
    if isinstance(event, ConversationResolved):
        return [{**common, "event_type": "resolution", "resolved_by": event.resolved_by, "agent_id": event.agent_id,
                 "handle_seconds": event.handle_seconds}]
    if isinstance(event, ConversationEnded):
        return [{**common, "event_type": "conversation_closed", "abandoned": event.abandoned}]
    if isinstance(event, ConversationRated):
        records = []
        if event.score is not None:
            records.append({**common, "event_type": "csat", "score": event.score, "comment": event.comment})
        if event.nps is not None:
            records.append({**common, "event_type": "nps", "score": event.nps})
        return records
    return []


def bot_decision(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """The bot_decision fields in a bot message's ``meta``, or None when it carries no decision."""
    source: Any = meta
    for key in ("decision", "bot"):
        if isinstance(meta.get(key), Mapping):
            source = meta[key]
            break
    action = source.get("action")
    confidence = source.get("confidence")
    if action not in _ACTIONS or not isinstance(confidence, int | float):
        return None
    sentiment = source.get("sentiment")
    if isinstance(sentiment, Mapping):  # e.g. {"label": "negative", "score": -0.7}
        sentiment = sentiment.get("label")
    intent = source.get("intent")
    reason = source.get("reason")
    return {
        "action": action,
        "confidence": min(1.0, max(0.0, float(confidence))),
        "intent": str(intent)[:128] if intent else None,
        "sentiment": sentiment if sentiment in _SENTIMENTS else None,
        "reason": str(reason)[:1000] if reason else None,
    }
