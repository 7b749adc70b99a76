"""Customer satisfaction: the rating request after resolution, and the answers.

The request is a system message with `meta.quick_replies` (channel adapters turn them into
buttons); the answer comes as a `rate` frame or as a quick-reply postback / plain text ("5").
Because the rated conversation is closed, a text answer arrives in a new conversation: a pending
pointer (pk=CUST#id, sk=CSAT_PENDING, 24 h TTL) says which conversation it rates, and the answer's
own conversation is closed again once the survey is over.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.core.bus import CONSUMED
from chalicelib.core.events import ConversationRated, MessageStored
from chalicelib.core.models import ConversationClosed, DedupKey, Message, MessageDraft, Sender
from chalicelib.errors import Forbidden, InvalidInput
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.conversations.service import ConversationService
    from chalicelib.i18n import CustomerTexts
    from chalicelib.routing.store import RoutingStore
    from chalicelib.store.table import Table

logger = Logger(child=True)

SURVEY = Sender(type="system", id="csat", name="Support")
PENDING_TTL_SECONDS = 24 * 3600
_ANSWER = re.compile(r"^\s*(?:(csat|nps)\s*:\s*)?(10|[0-9])\s*(?:/\s*(?:5|10))?\s*(?:⭐+|stars?)?\s*$", re.I)


def parse_answer(message: Message) -> tuple[str | None, int] | None:
    """("csat"|"nps"|None, score) if the message looks like a survey answer."""
    candidates = [message.text or ""]
    if message.meta and isinstance(message.meta.get("payload"), str):
        candidates.insert(0, message.meta["payload"])
    for text in candidates:
        match = _ANSWER.match(text)
        if match:
            return (match.group(1).lower() if match.group(1) else None), int(match.group(2))
    return None


class CsatService:
    def __init__(self, table: Table, conversations: ConversationService,
                 routing: RoutingStore, publish: Callable[[object], None], texts: CustomerTexts) -> None:
        self._table = table
        self._texts = texts
        self._conversations = conversations
        self._routing = routing
        self._publish = publish

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return encode({schema.PK: pk, schema.SK: sk})

    # -- asking ---------------------------------------------------------------------------------

    def request(self, conversation_id: str, customer_id: str, agent_id: str | None, channel: str) -> None:
        """Post the 1-5 question (before the conversation closes) and remember what it rates."""
        draft = MessageDraft(
            sender=SURVEY, channel=channel, kind="text",
            text=self._texts.for_conversation(conversation_id, "survey.csat_question"),
            meta={"csat": {"conversation_id": conversation_id, "question": "csat", "scale": [1, 5]},
                  "quick_replies": [{"title": str(n), "payload": f"csat:{n}"} for n in range(1, 6)]})
        self._conversations.post(conversation_id, draft, DedupKey("csat", ("ask", conversation_id)))
        self.set_pending(customer_id, conversation_id, agent_id, "csat")

    def _ask_nps(self, conversation_id: str, rated: str) -> None:
        draft = MessageDraft(
            sender=SURVEY, channel=self._channel(conversation_id), kind="text",
            text=self._texts.for_conversation(conversation_id, "survey.nps_question"),
            meta={"csat": {"conversation_id": rated, "question": "nps", "scale": [0, 10]},
                  "quick_replies": [{"title": str(n), "payload": f"nps:{n}"} for n in range(0, 11)]})
        self._conversations.post(conversation_id, draft, DedupKey("csat", ("nps", rated)))

    def set_pending(self, customer_id: str, conversation_id: str, agent_id: str | None, stage: str) -> None:
        """Remember which conversation the customer's next answer rates, and to which question."""
        item = {schema.PK: keys.customer_pk(customer_id), schema.SK: keys.CSAT_PENDING_SK,
                "conversation_id": conversation_id, "agent_id": agent_id, "stage": stage,
                schema.TTL_ATTRIBUTE: ids.now_ms() // 1000 + PENDING_TTL_SECONDS}
        self._table.put_item(Item=encode(item))

    def _pending(self, customer_id: str) -> dict[str, Any] | None:
        item = decode(self._table.get_item(ConsistentRead=True,
                                        Key=self._key(keys.customer_pk(customer_id), keys.CSAT_PENDING_SK)).get("Item"))
        if not item or item.get(schema.TTL_ATTRIBUTE, 0) < ids.now_ms() // 1000:
            return None
        return item

    # -- answers --------------------------------------------------------------------------------

    def rate(self, customer_id: str, conversation_id: str | None, *, score: int | None, comment: str | None = None,
             nps: int | None = None) -> dict[str, Any]:
        """Record (or amend) the customer's rating of one of their resolved conversations."""
        pending = self._pending(customer_id)
        conversation_id = conversation_id or (pending or {}).get("conversation_id")
        if not conversation_id:
            raise InvalidInput("no conversation is waiting for a rating", code="nothing_to_rate")
        state = self._routing.routing_state(conversation_id)
        if state is None or state.customer_id != customer_id:
            raise Forbidden("no such conversation for this customer", code="forbidden")
        if state.routing_status != "resolved" or state.status != "closed":
            raise InvalidInput("only resolved conversations can be rated", code="not_resolved")
        if score is not None and not 1 <= score <= 5:
            raise InvalidInput("score must be 1..5", code="invalid_score")
        if nps is not None and not 0 <= nps <= 10:
            raise InvalidInput("nps must be 0..10", code="invalid_score")
        now = ids.now_ms()
        agent_id = state.resolved_by or (pending or {}).get("agent_id")
        sets = ["customer_id = :c", "conversation_id = :conv", "rated_ms = :now"]
        values: dict[str, Any] = {":c": customer_id, ":conv": conversation_id, ":now": now}
        for name, value in (("score", score), ("#comment", comment), ("nps", nps), ("agent_id", agent_id)):
            if value is not None:
                sets.append(f"{name} = :{name.lstrip('#')}")
                values[f":{name.lstrip('#')}"] = value
        if agent_id:
            gsi1pk, gsi1sk = keys.agent_ratings_gsi1(agent_id, now, conversation_id)
            sets += ["gsi1pk = if_not_exists(gsi1pk, :g1)", "gsi1sk = if_not_exists(gsi1sk, :g1s)"]
            values.update({":g1": gsi1pk, ":g1s": gsi1sk})
        result = self._table.update_item(
            Key=self._key(keys.conversation_pk(conversation_id), keys.CSAT_SK),
            UpdateExpression="SET " + ", ".join(sets),
            **({"ExpressionAttributeNames": {"#comment": "comment"}} if comment is not None else {}),
            ExpressionAttributeValues={k: encode_value(v) for k, v in values.items()}, ReturnValues="ALL_NEW")
        logger.info("rating recorded", extra={"conversation_id": conversation_id, "agent_id": agent_id,
                                              "score": score, "nps": nps})
        self._publish(ConversationRated(conversation_id=conversation_id, customer_id=customer_id,
                                        channel=state.channel, ts_ms=now, score=score, nps=nps, comment=comment))
        rating = decode(result["Attributes"]) or {}
        return {k: rating.get(k) for k in ("conversation_id", "agent_id", "score", "comment", "nps", "rated_ms")}

    def get(self, conversation_id: str) -> dict[str, Any] | None:
        item = decode(self._table.get_item(ConsistentRead=True,
                                        Key=self._key(keys.conversation_pk(conversation_id), keys.CSAT_SK)).get("Item"))
        return {k: item.get(k) for k in ("conversation_id", "agent_id", "score", "comment", "nps", "rated_ms")} \
            if item else None

    def clear_pending(self, customer_id: str) -> None:
        self._table.delete_item(Key=self._key(keys.customer_pk(customer_id), keys.CSAT_PENDING_SK))

    def on_message(self, event: MessageStored) -> object:
        """A customer's quick-reply postback or bare number answering a pending survey is CONSUMED."""
        message = event.message
        if message.sender.type != "customer" or message.visibility != "public":
            return None
        if event.redelivered and self._resume(message):
            return CONSUMED
        return CONSUMED if self.answer(message) else None

    def answer(self, message: Message) -> bool:
        """Record `message` as the answer to the customer's pending survey, if it is one."""
        answer = parse_answer(message)
        if answer is None:
            return False
        pending = self._pending(message.sender.id)
        if pending is None:
            return False
        kind, value = answer
        stage = pending["stage"]
        if (kind and kind != stage) or (stage == "csat" and not 1 <= value <= 5):
            return False
        rated = pending["conversation_id"]
        # First, what this message answers: a redelivery after a crash below resumes from here.
        pk, sk = keys.survey_answer_key(message.conversation_id, message.seq)
        self._table.put_item(Item=encode({schema.PK: pk, schema.SK: sk, "stage": stage, "rated": rated,
                                          "agent_id": pending.get("agent_id"),
                                          schema.TTL_ATTRIBUTE: ids.now_ms() // 1000 + PENDING_TTL_SECONDS}))
        if stage == "csat":
            self.rate(message.sender.id, rated, score=value)
            if self._routing.get_config().nps_enabled:
                self.set_pending(message.sender.id, rated, pending.get("agent_id"), "nps")
                self._ask_nps(message.conversation_id, rated)
                return True
        else:
            self.rate(message.sender.id, rated, score=None, nps=value)
        self.clear_pending(message.sender.id)
        self._thank_and_close(message.conversation_id)
        return True

    def _answer_key(self, message: Message) -> dict[str, Any]:
        return self._key(*keys.survey_answer_key(message.conversation_id, message.seq))

    def _resume(self, message: Message) -> bool:
        """A redelivered survey answer: finish what its first attempt began (each step is idempotent)."""
        done = decode(self._table.get_item(ConsistentRead=True, Key=self._answer_key(message)).get("Item"))
        if not done:
            return False
        pending = self._pending(message.sender.id)
        if pending is not None and pending["stage"] == done["stage"] and pending["conversation_id"] == done["rated"]:
            return self.answer(message)  # cut short before the rating: do it all
        if done["stage"] == "csat" and pending is not None and pending["stage"] == "nps":
            self._ask_nps(message.conversation_id, done["rated"])  # the question again: deduplicated
        else:
            self._thank_and_close(message.conversation_id)  # the thanks again: deduplicated
        return True

    def _channel(self, conversation_id: str) -> str:
        conversation = self._conversations.get_conversation(conversation_id)
        return conversation.channel if conversation else "app"

    def _thank_and_close(self, conversation_id: str) -> None:
        thanks = self._texts.for_conversation(conversation_id, "survey.thanks")
        try:
            self._conversations.post(conversation_id, MessageDraft(
                sender=SURVEY, channel=self._channel(conversation_id), text=thanks,
                meta={"csat": {"question": "done"}}), DedupKey("csat", ("thanks", conversation_id)))
        except ConversationClosed:
            return
        self._conversations.close(conversation_id, "survey_answered")
