"""Posting messages into conversations, whatever the channel or sender.

The WebSocket chat, the social webhooks, the bot and agents all write through `post_*`, so the
rules live in one place: one open conversation per customer (a new one starts after the last was
closed), idempotent appends keyed by the sender's own message id, and fan-out to every live
connection of the conversation followed by the registered listeners (bot, analytics, channels).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Logger

from chalicelib.conversations.models import Message, MessageDraft
from chalicelib.errors import ConnectionGone, Forbidden, NotFound
from chalicelib.store.connection_store import Connection, ConnectionStore
from chalicelib.store.conversation_store import AppendResult, ConversationClosed, ConversationStore, DedupKey

logger = Logger(child=True)


class Pushes(Protocol):
    def send(self, endpoint: str, connection_id: str, frame: dict) -> None: ...


class MessageListener(Protocol):
    """Something that reacts to a newly stored message (the bot, analytics, outbound channels)."""

    def on_message(self, message: Message) -> None: ...


@dataclass(frozen=True)
class Delivery:
    delivered: int
    gone: int


class ConversationService:
    def __init__(self, store: ConversationStore, connections: ConnectionStore, pusher: Pushes,
                 listeners: list[MessageListener] | None = None,
                 on_gone: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.connections = connections
        self._pusher = pusher
        self._listeners = list(listeners or [])
        self._on_gone = on_gone

    def add_listener(self, listener: MessageListener) -> None:
        self._listeners.append(listener)

    # -- conversations -----------------------------------------------------------------------

    def ensure_open(self, customer_id: str, channel: str) -> str:
        """The customer's open conversation; a new one (joined by their live connections) if none."""
        conversation_id, created = self.store.open_conversation(customer_id, channel)
        if created:
            for connection in self.connections.for_owner("customer", customer_id):
                self.connections.attach(connection.connection_id, conversation_id)
        return conversation_id

    def close(self, conversation_id: str, reason: str) -> bool:
        conversation = self.store.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return self.store.close_conversation(conversation_id, conversation.customer_id, reason)

    # -- messages ----------------------------------------------------------------------------

    def post_from_customer(self, customer_id: str, draft: MessageDraft, dedup: DedupKey | None,
                           conversation_hint: str | None = None,
                           exclude_connection: str | None = None,
                           acknowledge: Callable[[AppendResult], None] | None = None) -> AppendResult:
        """Store a customer's message in their open conversation and fan it out.

        `conversation_hint` (the conversation a connection last saw) saves a read; if that
        conversation has been closed meanwhile, the message goes to a new one. `acknowledge` runs
        as soon as the message is stored (duplicates included), before fan-out and listeners, so
        the sender's ack is never queued behind the bot's answer.
        """
        conversation_id = conversation_hint or self.ensure_open(customer_id, draft.channel)
        try:
            result = self.store.append_message(conversation_id, draft, dedup)
        except ConversationClosed:
            if dedup is not None and (original := self.store.find_duplicate(dedup)) is not None:
                return AppendResult(original, duplicate=True)
            conversation_id = self.ensure_open(customer_id, draft.channel)
            result = self.store.append_message(conversation_id, draft, dedup)
        if acknowledge is not None:
            acknowledge(result)
        if not result.duplicate:
            self._after_append(result.message, exclude_connection)
        return result

    def post(self, conversation_id: str, draft: MessageDraft, dedup: DedupKey | None = None,
             exclude_connection: str | None = None) -> AppendResult:
        """Store a bot, agent or system message in a given conversation and fan it out."""
        result = self.store.append_message(conversation_id, draft, dedup)
        if not result.duplicate:
            self._after_append(result.message, exclude_connection)
        return result

    def history(self, customer_id: str, conversation_id: str | None, *, after_seq: int | None,
                before_seq: int | None, limit: int) -> tuple[str | None, list[Message], bool]:
        """A page of one of the customer's own conversations (default: open, else latest)."""
        if conversation_id is None:
            conversation_id = self.store.open_conversation_id(customer_id)
            if conversation_id is None:
                latest = self.store.list_customer_conversations(customer_id, limit=1)
                if not latest:
                    return None, [], False
                conversation_id = latest[0].conversation_id
        else:
            conversation = self.store.get_conversation(conversation_id)
            # The same answer for "not yours" and "does not exist", so ids cannot be probed.
            if conversation is None or conversation.customer_id != customer_id:
                raise Forbidden("no such conversation for this customer", code="forbidden")
        messages, has_more = self.store.list_messages(conversation_id, after_seq=after_seq,
                                                      before_seq=before_seq, limit=limit)
        return conversation_id, [m for m in messages if m.visibility == "public"], has_more

    # -- fan-out -----------------------------------------------------------------------------

    def fan_out(self, message: Message, exclude_connection: str | None = None) -> Delivery:
        """Send a `message` frame to every live connection of the conversation but the sender's."""
        if message.visibility != "public":
            return Delivery(0, 0)
        frame = {"type": "message", "message": message.public_view()}
        return self.push_to(self.connections.for_conversation(message.conversation_id), frame,
                            exclude_connection)

    def push_to(self, connections: list[Connection], frame: dict, exclude_connection: str | None = None) -> Delivery:
        delivered = gone = 0
        for connection in connections:
            if connection.connection_id == exclude_connection:
                continue
            try:
                self._pusher.send(connection.endpoint, connection.connection_id, frame)
                delivered += 1
            except ConnectionGone:
                gone += 1
                self.connections.delete(connection.connection_id)
                logger.info("removed stale connection", extra={"stale_connection_id": connection.connection_id})
                if self._on_gone:
                    self._on_gone(connection.connection_id)
            except Exception:  # one broken connection must not stop the rest of the fan-out
                logger.exception("push failed", extra={"target_connection_id": connection.connection_id})
        return Delivery(delivered, gone)

    def _after_append(self, message: Message, exclude_connection: str | None) -> None:
        self.fan_out(message, exclude_connection)
        for listener in self._listeners:
            try:
                listener.on_message(message)
            except Exception:  # a listener's failure must not undo or fail the stored message
                logger.exception("message listener failed", extra={"listener": type(listener).__name__})
