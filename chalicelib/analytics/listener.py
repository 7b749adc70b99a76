"""MessageListener that turns every stored public message into interaction events.

Registered on the ConversationService by ``wiring.conversations()``: a customer message becomes
``message_in``, a bot, agent or system message ``message_out``, and a bot message whose ``meta``
carries a decision (``intent``, ``confidence``, ``sentiment``, ``action``; flat or under
``meta["decision"]``/``meta["bot"]``) also a ``bot_decision`` (and a ``handoff`` when its action is
``handoff``). Only lengths and labels leave the
platform, never the text. Events carry the raw customer id, which the publisher pseudonymises;
for bot and agent messages it comes from the conversation (cached per container, one GetItem
on a miss). Internal agent notes are not interactions and are skipped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.conversations.models import Message

logger = Logger(child=True)

_ACTIONS = {"answer", "suggest", "handoff", "fallback"}
_SENTIMENTS = {"positive", "neutral", "negative"}


class AnalyticsListener:
    def __init__(self, emit: Callable[[Mapping[str, Any]], None],
                 customer_of: Callable[[str], str | None], cache_size: int = 10_000) -> None:
        self._emit = emit
        self._customer_of = customer_of
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def on_message(self, message: Message) -> None:
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
        customer_id = self._customer_of(conversation_id)
        if customer_id is not None:
            self._remember(conversation_id, customer_id)
        return customer_id


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
