"""The ticket loop with the customer (issue 16): what happens to their ticket reaches them, and
their answer closes or reopens it.

Public comments (`TicketCommented`) and status changes (`TicketChanged`) of a ticket that has a
customer are posted as system messages into the customer's conversation on their last channel (the
open one, else a new one on the channel of the latest, with that conversation's reply route, so
outbound delivers them on WhatsApp, WeChat, ...), in the conversation's language. When a ticket
becomes `solved`, the message asks "is your problem solved?" with two quick replies and a pending
pointer (pk=CUST#id, sk=TICKET_PENDING, `CONFIRM_TTL_SECONDS`) remembers which ticket the next answer
is about. The customer's answer - "已解决" / "solved" / the quick reply, or "没有解决" / "not solved" -
is consumed like a CSAT answer (it is not a question for the bot): the ticket is closed or
reopened by `customer:<id>`, and `TicketConfirmation` events (`asked`, `confirmed`, `reopened`)
feed the confirmation-rate KPI.

Customers list their own tickets over the WebSocket (`tickets` frame): subject, status, dates and
the public comments; internal comments never leave the desk.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.core.bus import CONSUMED
from chalicelib.core.events import MessageStored, TicketChanged, TicketCommented, TicketConfirmation
from chalicelib.core.models import ConversationClosed, DedupKey, MessageDraft, Sender
from chalicelib.errors import Conflict, InvalidInput
from chalicelib.i18n import language_of
from chalicelib.store import keys, schema
from chalicelib.store.codec import encode
from chalicelib.store.table import ConditionFailed
from chalicelib.tickets.models import TicketPatch

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.conversations.service import ConversationService
    from chalicelib.core.models import Message
    from chalicelib.i18n import CustomerTexts
    from chalicelib.store.delivery_store import DeliveryStore
    from chalicelib.store.table import Table
    from chalicelib.tickets.models import AuditEntry, Ticket
    from chalicelib.tickets.service import TicketService

logger = Logger(child=True)

SUPPORT = Sender(type="system", id="tickets", name="Support")
CONFIRM_TTL_SECONDS = 7 * 24 * 3600
CONFIRM_PAYLOAD = "ticket:solved"
REOPEN_PAYLOAD = "ticket:not_solved"
Answer = Literal["confirmed", "reopened"]

# Normalised (NFKC, lower case, no punctuation or spaces) whole answers.
_CONFIRM = {"solved", "resolved", "yes", "yessolved", "itssolved", "itissolved", "fixed", "done", "ok",
            "已解决", "解决了", "已经解决", "已经解决了", "是", "是的", "好了", "好的"}
_REOPEN = {"notsolved", "notresolved", "unsolved", "no", "nope", "notfixed", "stillbroken", "reopen",
           "没有解决", "没解决", "未解决", "还没解决", "还没有解决", "否", "不是", "没有"}
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

# Status changes the customer hears of (`new` is the creation; `closed` after their confirmation is
# answered by the confirmation itself).
_STATUS_TEXTS = {"new": "ticket.created", "open": "ticket.open", "pending": "ticket.pending",
                 "solved": "ticket.solved_question", "closed": "ticket.closed"}


def parse_answer(message: Message) -> Answer | None:
    """`confirmed` / `reopened` if the message answers "is your problem solved?"."""
    payload = (message.meta or {}).get("payload")
    if payload == CONFIRM_PAYLOAD:
        return "confirmed"
    if payload == REOPEN_PAYLOAD:
        return "reopened"
    normal = _NOT_WORD.sub("", unicodedata.normalize("NFKC", message.text or "").lower())
    if normal in _REOPEN:
        return "reopened"
    if normal in _CONFIRM:
        return "confirmed"
    return None


def public_view(ticket: Ticket, audit: list[AuditEntry]) -> dict[str, Any]:
    """What the customer may see of their ticket: never internal comments, assignees or tags."""
    comments = [{"at_ms": a.at_ms, "text": a.changes["comment"]["text"]} for a in audit
                if isinstance(a.changes.get("comment"), dict) and a.changes["comment"].get("public")]
    return {"ticket_id": ticket.ticket_id, "subject": ticket.subject, "status": ticket.status,
            "priority": ticket.priority, "created_ms": ticket.created_ms, "updated_ms": ticket.updated_ms,
            "solved_ms": ticket.solved_ms, "comments": comments}


class TicketLoop:
    def __init__(self, tickets: TicketService, conversations: ConversationService, delivery: DeliveryStore,
                 table: Table, texts: CustomerTexts, publish: Callable[[object], None],
                 clock: Callable[[], int] = ids.now_ms) -> None:
        self._tickets = tickets
        self._texts = texts
        self._conversations = conversations
        self._delivery = delivery
        self._table = table
        self._publish = publish
        self._now = clock

    # -- the customer's list ------------------------------------------------------------------

    def list_for_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's tickets, newest first, as the customer may see them."""
        tickets = self._tickets.store.for_customer(customer_id)
        views = [public_view(t, self._tickets.store.audit(t.ticket_id)) for t in tickets]
        return sorted(views, key=lambda v: -int(v["created_ms"]))

    # -- ticket -> customer -------------------------------------------------------------------

    def on_ticket_changed(self, event: TicketChanged) -> None:
        if not event.customer_id or event.to_status not in _STATUS_TEXTS:
            return
        if event.to_status == "open" and event.from_status == "new":
            return  # an agent took it: nothing the customer needs to hear
        if event.from_status == "solved":
            audit = self._tickets.store.audit(event.ticket_id)
            if audit and audit[-1].actor.startswith("customer:"):
                # the customer's own answer: its handler answers them and clears the pending question
                # last (cleared here, a redelivery of an answer whose thank-you failed would go to the bot)
                return
            if self._pending_for(event.customer_id, event.ticket_id):
                self._clear_pending(event.customer_id)  # the desk decided before the customer answered
        ticket = self._tickets.get(event.ticket_id)
        if event.from_status is None and ticket.source == "offline_escalation":
            return  # routing's offline notice already told them a ticket was opened
        key = "ticket.reopened" if event.to_status == "open" and event.from_status == "solved" \
            else _STATUS_TEXTS[event.to_status]
        conversation_id, language = self._target(event.customer_id)
        if conversation_id is None:
            return
        meta: dict[str, Any] = {"ticket": {"ticket_id": ticket.ticket_id, "status": event.to_status,
                                           "language": language}}
        if event.to_status == "solved":
            meta["quick_replies"] = [
                {"title": self._text("ticket.answer_solved", language), "payload": CONFIRM_PAYLOAD},
                {"title": self._text("ticket.answer_not_solved", language), "payload": REOPEN_PAYLOAD}]
        body = self._text(key, language, ref=ticket.ticket_id, subject=ticket.subject)
        self._post(conversation_id, body, meta, ("status", ticket.ticket_id, str(event.ts_ms), event.to_status))
        if event.to_status == "solved":
            self._set_pending(event.customer_id, ticket.ticket_id, conversation_id)
            self._publish(TicketConfirmation(ticket_id=ticket.ticket_id, customer_id=event.customer_id,
                                             conversation_id=conversation_id, channel=self._channel(conversation_id),
                                             ts_ms=self._now(), outcome="asked"))

    def on_ticket_commented(self, event: TicketCommented) -> None:
        if not event.customer_id or not event.public:
            return
        ticket = self._tickets.get(event.ticket_id)
        conversation_id, language = self._target(event.customer_id)
        if conversation_id is None:
            return
        body = self._text("ticket.comment", language, ref=ticket.ticket_id, subject=ticket.subject, text=event.text)
        self._post(conversation_id, body, {"ticket": {"ticket_id": ticket.ticket_id, "comment": True,
                                                      "language": language}},
                   ("comment", ticket.ticket_id, event.comment_id))

    # -- customer -> ticket -------------------------------------------------------------------

    def on_message(self, event: MessageStored) -> object:
        """The customer's answer to "is your problem solved?" is CONSUMED (the bot does not see it)."""
        message = event.message
        if message.sender.type != "customer" or message.visibility != "public":
            return None
        return CONSUMED if self.answer(message) else None

    def answer(self, message: Message) -> bool:
        outcome = parse_answer(message)
        if outcome is None:
            return False
        found = self._pending_item(message.sender.id)
        if found is not None and found.get("answered_by") == message.message_id:
            return True  # this very answer was handled (SQS delivers it again): consumed, nothing happens twice
        pending = found if found is not None and not found.get("answered_by") else None
        if pending is None:
            return False
        ticket_id = str(pending["ticket_id"])
        customer_id = message.sender.id
        status = "closed" if outcome == "confirmed" else "open"
        applied = False
        try:
            ticket = self._tickets.get(ticket_id)
            if ticket.status == "solved":
                self._tickets.update(ticket_id, TicketPatch(status=status), actor=f"customer:{customer_id}")
                applied = True
        except (Conflict, InvalidInput):
            logger.info("ticket answer not applied", extra={"ticket_id": ticket_id})
        if applied:  # counted by the attempt that applied it: a redelivery finds the ticket moved on
            self._publish(TicketConfirmation(ticket_id=ticket_id, customer_id=customer_id,
                                             conversation_id=message.conversation_id, channel=message.channel,
                                             ts_ms=message.ts_ms, outcome=outcome))
        language = self._texts.languages.for_conversation(message.conversation_id, hint=language_of(message.text))
        key = "ticket.confirmed" if outcome == "confirmed" else "ticket.reopened_by_customer"
        self._post(message.conversation_id, self._text(key, language, ref=ticket_id),
                   {"ticket": {"ticket_id": ticket_id, "status": status, "language": language}},
                   ("answer", ticket_id, message.message_id))
        # Last: until the pending question is marked answered, a redelivery of this answer (the effects
        # queue retries a failed delivery) finds it and does each idempotent step again; none happens
        # twice. Marked rather than deleted: a redelivery after that is still recognised and consumed.
        self._mark_answered(customer_id, message.message_id)
        logger.info("ticket answered by customer", extra={"ticket_id": ticket_id, "outcome": outcome})
        return True

    # -- internals ----------------------------------------------------------------------------

    def _target(self, customer_id: str) -> tuple[str | None, str]:
        """The conversation to tell the customer in (open, else a new one on their last channel) and its language."""
        latest = self._conversations.list_customer_conversations(customer_id, limit=1)
        if not latest:
            return None, self._texts.catalog.default_language
        last = latest[0]
        language = self._texts.languages.for_customer(customer_id)  # before a new, silent conversation opens
        if last.status == "open":
            return last.conversation_id, language
        route = self._delivery.reply_route(last.conversation_id)
        conversation_id = self._conversations.ensure_open(customer_id, last.channel)
        if route is not None and self._delivery.reply_route(conversation_id) is None:
            # the social channel's address and its customer-service window carry over
            self._delivery.set_reply_route(conversation_id, route.channel, route.external_id, route.reply_context,
                                           route.last_customer_ms.get(route.channel))
        return conversation_id, language

    def _text(self, key: str, language: str, **params: object) -> str:
        return self._texts.catalog.text(key, language, **params)

    def _channel(self, conversation_id: str) -> str:
        conversation = self._conversations.get_conversation(conversation_id)
        return conversation.channel if conversation else "app"

    def _post(self, conversation_id: str, body: str, meta: dict[str, Any], dedup: tuple[str, ...]) -> None:
        draft = MessageDraft(sender=SUPPORT, channel=self._channel(conversation_id), text=body, meta=meta)
        try:
            self._conversations.post(conversation_id, draft, DedupKey("tickets", dedup))
        except ConversationClosed:  # closed between the look-up and the post: one retry on a fresh one
            conversation = self._conversations.get_conversation(conversation_id)
            if conversation is None:
                raise
            fresh = self._conversations.ensure_open(conversation.customer_id, conversation.channel)
            self._conversations.post(fresh, draft, DedupKey("tickets", dedup))

    def _set_pending(self, customer_id: str, ticket_id: str, conversation_id: str) -> None:
        self._table.put_item(Item=encode({
            schema.PK: keys.customer_pk(customer_id), schema.SK: keys.TICKET_PENDING_SK, "ticket_id": ticket_id,
            "conversation_id": conversation_id, "asked_ms": self._now(),
            schema.TTL_ATTRIBUTE: self._now() // 1000 + CONFIRM_TTL_SECONDS}))

    def _pending_item(self, customer_id: str) -> dict[str, Any] | None:
        item = self._table.get(encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.TICKET_PENDING_SK}),
                               consistent=True)
        if not item or int(item.get(schema.TTL_ATTRIBUTE, 0)) < self._now() // 1000:
            return None
        return item

    def _pending(self, customer_id: str) -> dict[str, Any] | None:
        """The question waiting for the customer's answer (None once they answered it)."""
        item = self._pending_item(customer_id)
        return None if item is None or item.get("answered_by") else item

    def _mark_answered(self, customer_id: str, message_id: str) -> None:
        try:
            self._table.update_item(
                Key=encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.TICKET_PENDING_SK}),
                UpdateExpression="SET answered_by = :m", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=encode({":m": message_id}))
        except ConditionFailed:
            return  # cleared meanwhile (the desk decided): nothing is pending either way

    def _pending_for(self, customer_id: str, ticket_id: str) -> bool:
        pending = self._pending(customer_id)
        return pending is not None and pending.get("ticket_id") == ticket_id

    def _clear_pending(self, customer_id: str) -> None:
        self._table.delete_item(Key=encode({schema.PK: keys.customer_pk(customer_id),
                                            schema.SK: keys.TICKET_PENDING_SK}))
