"""The bot in the conversation: a `MessageStored` subscriber that answers customers on every channel.

For each new public customer message (text or postback), unless the conversation is with a human
(the routing domain's ``assigned_agent`` / ``routing_status`` on the conversation, or the bot already
handed it over), the policy decides and the bot posts its reply on the same channel through
``ConversationService.post``: WebSocket fan-out delivers it to the customer's devices, and the
outbound channel listener to social platforms. The decision (intent, confidence, sentiment, action,
reason, quick replies) is the bot message's ``meta``. A handoff also puts an ``EscalationRequest``
on the escalation queue.

Per-conversation bot state (``CONV#id/BOT``): consecutive ``misses`` and ``handoff_ms``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.core.models import DedupKey, Message, MessageDraft, Sender
from chalicelib.routing.models import EscalationRequest
from chalicelib.store import keys
from chalicelib.store.codec import encode_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.bot.policy import Decision, DialoguePolicy
    from chalicelib.conversations.service import ConversationService
    from chalicelib.core.events import MessageStored
    from chalicelib.store.table import Table

logger = Logger(child=True)

BOT = Sender(type="bot", id="bot", name="Assistant")
# Routing statuses in which a human owns (or is about to own) the conversation.
HUMAN_STATUSES = frozenset({"queued", "offered", "assigned", "offline"})


class BotState:
    """The bot's per-conversation state item, read together with the conversation and the customer."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def load(self, conversation_id: str, customer_id: str) -> tuple[dict, dict, dict]:
        """(conversation META, customer PROFILE, BOT state) in one BatchGetItem."""
        wanted = {
            "meta": (keys.conversation_pk(conversation_id), keys.META_SK),
            "profile": (keys.customer_pk(customer_id), keys.PROFILE_SK),
            "bot": keys.bot_state_key(conversation_id),
        }
        items = self._table.batch_get([{"pk": encode_value(pk), "sk": encode_value(sk)} for pk, sk in wanted.values()])
        found = {(item["pk"], item["sk"]): item for item in items}
        return (found.get(wanted["meta"], {}), found.get(wanted["profile"], {}), found.get(wanted["bot"], {}))

    def save(self, conversation_id: str, decision: Decision, message_id: str) -> None:
        self.save_fields(conversation_id, misses=decision.misses, action=decision.action, reason=decision.reason,
                         message_id=message_id, handoff=decision.handoff)

    def save_fields(self, conversation_id: str, *, misses: int, action: str, reason: str, message_id: str,
                    handoff: bool) -> None:
        pk, sk = keys.bot_state_key(conversation_id)
        sets = ["misses = :m", "last_action = :a", "last_message_id = :mid", "updated_ms = :now"]
        values = {":m": encode_value(misses), ":a": encode_value(action),
                  ":mid": encode_value(message_id), ":now": encode_value(ids.now_ms())}
        if handoff:
            sets.append("handoff_ms = :now")
            sets.append("handoff_reason = :r")
            values[":r"] = encode_value(reason)
        self._table.update_item(Key={"pk": encode_value(pk), "sk": encode_value(sk)},
                             UpdateExpression="SET " + ", ".join(sets), ExpressionAttributeValues=values)


class BotResponder:
    def __init__(self, conversations: ConversationService, state: BotState, policy: DialoguePolicy,
                 model: Callable[[], Any], escalate: Callable[[EscalationRequest], Any], enabled: bool = True) -> None:
        self._conversations = conversations
        self._state = state
        self._policy = policy
        self._model = model
        self._escalate = escalate
        self._enabled = enabled

    def on_message(self, event: MessageStored) -> None:
        message = event.message
        if not self._enabled or message.sender.type != "customer" or message.visibility != "public":
            return
        text = (message.text or "").strip()
        if message.kind not in ("text", "postback") or not text:
            return
        conversation, profile, state = self._state.load(message.conversation_id, message.sender.id)
        if event.redelivered and self._resume(message, bool(profile.get("vip"))):
            return
        if conversation.get("status", "open") != "open":
            return
        routing_status = conversation.get("routing_status")
        handed_over = state.get("handoff_ms") and routing_status != "resolved"
        if conversation.get("assigned_agent") or routing_status in HUMAN_STATUSES or handed_over:
            logger.debug("bot silent: conversation is with a human")
            return
        vip = bool(profile.get("vip"))
        decision = self._policy.decide(text, self._model(), misses=int(state.get("misses", 0)), vip=vip)
        meta = {**decision.meta(), "in_reply_to": message.message_id, "bot": True}
        reply = MessageDraft(sender=BOT, channel=message.channel, text=decision.text, meta=meta)
        # Keyed by the customer message: a redelivered message never gets a second answer.
        self._conversations.post(message.conversation_id, reply, dedup=DedupKey("bot", message.message_id))
        self._state.save(message.conversation_id, decision, message.message_id)
        logger.info("bot decision", extra={"action": decision.action, "reason": decision.reason,
                                           "intent": decision.intent, "confidence": decision.confidence})
        if decision.handoff:
            sentiment = decision.sentiment.score if decision.sentiment is not None else None
            self._escalate(self._escalation(message, decision.reason, decision.language, sentiment, vip))

    def _resume(self, message: Message, vip: bool) -> bool:
        """A redelivered customer message the bot already answered: finish what that attempt began.

        The reply is stored once (keyed by the customer's message); posting it again schedules its
        effects again, and a handoff is escalated again under the same idempotency key.
        """
        earlier = self._conversations.resume(DedupKey("bot", message.message_id))
        if earlier is None:
            return False
        meta = earlier.meta or {}
        self._state.save_fields(message.conversation_id, misses=int(meta.get("misses", 0)),
                                action=str(meta.get("action")), reason=str(meta.get("reason")),
                                message_id=message.message_id, handoff=meta.get("action") == "handoff")
        if meta.get("action") == "handoff":
            self._escalate(self._escalation(message, str(meta.get("reason")), str(meta.get("language") or "en"),
                                            meta.get("sentiment_score"), vip))
        logger.info("bot reply resumed", extra={"action": meta.get("action")})
        return True

    @staticmethod
    def _escalation(message: Message, reason: str, language: str, sentiment: float | None,
                    vip: bool) -> EscalationRequest:
        return EscalationRequest(
            conversation_id=message.conversation_id, customer_id=message.sender.id, reason=reason,
            language=language, vip=vip, sentiment=sentiment,
            requested_at=datetime.fromtimestamp(ids.now_ms() / 1000, tz=UTC),
            idempotency_key=f"bot#{message.message_id}", source="bot",
            note=(message.text or "")[:2000],
        )
