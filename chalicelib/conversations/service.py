"""Posting messages into conversations, whatever the channel or sender.

The WebSocket chat, the social webhooks, the bot and agents all write through `post_*`, so the
rules live in one place: one open conversation per customer (a new one starts after the last was
closed), idempotent appends keyed by the sender's own message id, then the message's effects
scheduled on the effects queue (`chalicelib.effects`): fan-out to every live connection of the
conversation, and everything else that reacts (bot, analytics, agents, channels: see the
subscriptions table in `chalicelib.services`). A duplicate schedules them again, so a retry
resumes what a failed first attempt left undone; the subscribers are idempotent per message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.models import (
    AppendResult,
    Conversation,
    ConversationClosed,
    Customer,
    DedupKey,
    Message,
    MessageDraft,
)
from chalicelib.errors import Forbidden, NotFound
from chalicelib.realtime import frames
from chalicelib.realtime.notifier import Delivery, Notifier
from chalicelib.store import keys

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.core.events import MessageStored
    from chalicelib.effects.outbox import EffectsOutbox
    from chalicelib.store.connection_store import ConnectionStore
    from chalicelib.store.conversation_store import ConversationStore


class ConversationService:
    def __init__(self, store: ConversationStore, connections: ConnectionStore, notifier: Notifier,
                 effects: EffectsOutbox) -> None:
        self._store = store
        self._connections = connections
        self._notifier = notifier
        self._effects = effects

    # -- reads -------------------------------------------------------------------------------

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        return self._store.get_conversation(conversation_id)

    def last_activity_ms(self, conversation_id: str) -> int | None:
        """When its latest message was stored (None: none yet)."""
        return self._store.last_activity_ms(conversation_id)

    def get_customer(self, customer_id: str) -> Customer | None:
        return self._store.get_customer(customer_id)

    def open_conversation_id(self, customer_id: str) -> str | None:
        return self._store.open_conversation_id(customer_id)

    def find_duplicate(self, dedup: DedupKey) -> Message | None:
        return self._store.find_duplicate(dedup)

    def list_messages(self, conversation_id: str, *, after_seq: int | None = None, before_seq: int | None = None,
                      limit: int = 50) -> tuple[list[Message], bool]:
        return self._store.list_messages(conversation_id, after_seq=after_seq, before_seq=before_seq, limit=limit)

    def list_customer_conversations(self, customer_id: str, *, limit: int = 20) -> list[Conversation]:
        return self._store.list_customer_conversations(customer_id, limit=limit)

    # -- customers and their connections -----------------------------------------------------

    def upsert_customer(self, customer_id: str, *, name: str | None, vip: bool) -> None:
        self._store.upsert_customer(customer_id, name=name, vip=vip)

    def attach(self, connection_id: str, conversation_id: str) -> None:
        """Point one connection at a conversation (its fan-out target from now on)."""
        self._connections.attach(connection_id, conversation_id)

    def attach_customer(self, customer_id: str, conversation_id: str) -> None:
        """Point every live connection of the customer at the conversation."""
        for connection in self._connections.for_owner("customer", customer_id):
            self._connections.attach(connection.connection_id, conversation_id)

    # -- conversations -----------------------------------------------------------------------

    def ensure_open(self, customer_id: str, channel: str) -> str:
        """The customer's open conversation; a new one (joined by their live connections) if none."""
        conversation_id, created = self._store.open_conversation(customer_id, channel)
        if created:
            self.attach_customer(customer_id, conversation_id)
        return conversation_id

    def close(self, conversation_id: str, reason: str) -> bool:
        conversation = self._store.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return self._store.close_conversation(conversation_id, conversation.customer_id, reason)

    # -- messages ----------------------------------------------------------------------------

    def post_from_customer(self, customer_id: str, draft: MessageDraft, dedup: DedupKey | None,
                           conversation_hint: str | None = None,
                           exclude_connection: str | None = None,
                           acknowledge: Callable[[AppendResult], None] | None = None) -> AppendResult:
        """Store a customer's message in their open conversation and schedule its effects.

        `conversation_hint` (the conversation a connection last saw) saves a read; if that
        conversation has been closed meanwhile, the message goes to a new one. `acknowledge` runs
        as soon as the message is stored and its effects scheduled (duplicates included), so the
        sender's ack never waits for the bot's answer, and an ack always means "it will happen".
        """
        conversation_id = conversation_hint or self.ensure_open(customer_id, draft.channel)
        try:
            result = self._store.append_message(conversation_id, draft, dedup)
        except ConversationClosed:
            if dedup is not None and (original := self._store.find_duplicate_result(dedup)) is not None:
                result = original
            else:
                conversation_id = self.ensure_open(customer_id, draft.channel)
                result = self._store.append_message(conversation_id, draft, dedup)
        self._schedule(result, dedup, exclude_connection)
        if acknowledge is not None:
            acknowledge(result)
        return result

    def post(self, conversation_id: str, draft: MessageDraft, dedup: DedupKey | None = None,
             exclude_connection: str | None = None) -> AppendResult:
        """Store a bot, agent or system message in a given conversation and schedule its effects."""
        result = self._store.append_message(conversation_id, draft, dedup)
        self._schedule(result, dedup, exclude_connection)
        return result

    def history(self, customer_id: str, conversation_id: str | None, *, after_seq: int | None,
                before_seq: int | None, limit: int) -> tuple[str | None, list[Message], bool]:
        """A page of one of the customer's own conversations (default: open, else latest)."""
        if conversation_id is None:
            conversation_id = self._store.open_conversation_id(customer_id)
            if conversation_id is None:
                latest = self._store.list_customer_conversations(customer_id, limit=1)
                if not latest:
                    return None, [], False
                conversation_id = latest[0].conversation_id
        else:
            conversation = self._store.get_conversation(conversation_id)
            # The same answer for "not yours" and "does not exist", so ids cannot be probed.
            if conversation is None or conversation.customer_id != customer_id:
                raise Forbidden("no such conversation for this customer", code="forbidden")
        messages, has_more = self._store.list_messages(conversation_id, after_seq=after_seq,
                                                       before_seq=before_seq, limit=limit)
        return conversation_id, [m for m in messages if m.visibility == "public"], has_more

    # -- fan-out -----------------------------------------------------------------------------

    def fan_out(self, message: Message, exclude_connection: str | None = None) -> Delivery:
        """Send a `message` frame to every live connection of the conversation but the sender's."""
        if message.visibility != "public":
            return Delivery(0, 0)
        return self._notifier.to_conversation(message.conversation_id, frames.message(message.public_view()),
                                              exclude=exclude_connection)

    def resume(self, dedup: DedupKey) -> Message | None:
        """The message stored under `dedup`, its effects scheduled again unless they all happened
        (a retry resuming what a failed attempt left undone); None if there is no such message."""
        found = self._store.find_duplicate_result(dedup)
        if found is not None:
            self._schedule(found, dedup, None)
        return found.message if found else None

    def on_message_stored(self, event: MessageStored) -> None:
        """The first effect of a message: every live connection of the conversation gets it."""
        self.fan_out(event.message, event.origin_connection)

    def _schedule(self, result: AppendResult, dedup: DedupKey | None, origin_connection: str | None) -> None:
        if result.effects_done:
            return  # a retry of a request whose message had every effect already
        self._effects.schedule(result.message, redelivered=result.duplicate, origin_connection=origin_connection,
                               dedup_pk=keys.dedup_pk(dedup.scope, dedup.key) if dedup is not None else None)
