"""What the platform says to customers, in their language: one catalog, one language resolver.

Every text a customer can read that the platform itself writes (queue position, handoff notices,
survey questions, bot fallbacks, slot prompts, ticket notices …) is a key of the catalog in
`messages/<language>.json`. Adding a language is adding one file with every key of `en.json`.
"""

from chalicelib.i18n.catalog import Catalog, UnknownText
from chalicelib.i18n.language import language_of
from chalicelib.i18n.resolver import LanguageResolver
from chalicelib.i18n.texts import CustomerTexts

__all__ = ["Catalog", "CustomerTexts", "LanguageResolver", "UnknownText", "language_of"]
