"""`CustomerTexts`: the catalog text for a conversation, in the language its customer speaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.i18n.catalog import Catalog
    from chalicelib.i18n.resolver import LanguageResolver


class CustomerTexts:
    def __init__(self, catalog: Catalog, languages: LanguageResolver) -> None:
        self.catalog = catalog
        self.languages = languages

    def for_conversation(self, conversation_id: str, key: str, *, language: str | None = None,
                         **params: object) -> str:
        """`key` in the conversation's language (`language`, when the caller knows it already)."""
        return self.catalog.text(key, self.languages.for_conversation(conversation_id, hint=language), **params)

    def for_customer(self, customer_id: str, key: str, **params: object) -> str:
        """`key` in the language of the customer's profile (no conversation to go by)."""
        return self.catalog.text(key, self.languages.for_customer(customer_id), **params)
