"""The language to speak in a conversation: the customer's last message that tells (in this
conversation, else in their latest earlier ones: a survey answered with "4" opens a new
conversation that tells nothing), else their profile's language, else the company default
(`DEFAULT_LANGUAGE`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from chalicelib.i18n.language import language_of

if TYPE_CHECKING:
    from chalicelib.core.models import Conversation, Customer, Message

LOOKBACK_MESSAGES = 20
LOOKBACK_CONVERSATIONS = 3


class ConversationReader(Protocol):
    def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    def get_customer(self, customer_id: str) -> Customer | None: ...

    def list_customer_conversations(self, customer_id: str, *, limit: int = 20) -> list[Conversation]: ...

    def list_messages(self, conversation_id: str, *, after_seq: int | None = None, before_seq: int | None = None,
                      limit: int = 50) -> tuple[list[Message], bool]: ...


class LanguageResolver:
    def __init__(self, conversations: ConversationReader, supported: tuple[str, ...], default: str) -> None:
        self._conversations = conversations
        self._supported = supported
        self._default = default

    def for_conversation(self, conversation_id: str, *, hint: str | None = None) -> str:
        """`hint`: the language of the message being answered, when the caller already knows it."""
        if hint is not None and hint in self._supported:
            return hint
        if (spoken := self._spoken_in(conversation_id)) is not None:
            return spoken
        conversation = self._conversations.get_conversation(conversation_id)
        return self.for_customer(conversation.customer_id, skip=conversation_id) if conversation else self._default

    def for_customer(self, customer_id: str, *, skip: str | None = None,
                     known: tuple[list[Conversation], Customer | None] | None = None) -> str:
        """The language of the customer's latest conversations that tell, else of their profile.

        `known`: their latest conversations (newest first) and profile, when the caller has just read them."""
        latest = known[0][:LOOKBACK_CONVERSATIONS + 1] if known is not None else \
            self._conversations.list_customer_conversations(customer_id, limit=LOOKBACK_CONVERSATIONS + 1)
        for conversation in latest:
            if conversation.conversation_id != skip and (spoken := self._spoken_in(conversation.conversation_id)):
                return spoken
        customer = known[1] if known is not None else self._conversations.get_customer(customer_id)
        language = customer.language if customer else None
        return language if language is not None and language in self._supported else self._default

    def _spoken_in(self, conversation_id: str) -> str | None:
        messages, _ = self._conversations.list_messages(conversation_id, limit=LOOKBACK_MESSAGES)
        for message in reversed(messages):
            language = language_of(message.text) if message.sender.type == "customer" else None
            if language is not None and language in self._supported:
                return language
        return None
