"""The message catalog: `Catalog().text("routing.queued", "zh", position=3, minutes=5)`.

Texts are `str.format` templates. An entry may be a mapping of plural forms (`one`, `other`),
chosen by the `count` parameter. Every language must have exactly the keys and placeholders of
the default language; the catalog checks that when it loads, so a missing translation fails the
test suite instead of reaching a customer in the wrong language.
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

MESSAGES_DIR = Path(__file__).with_name("messages")
DEFAULT_LANGUAGE = "en"

Entry = str | dict[str, str]


class UnknownText(KeyError):
    """A key that is not in the catalog (a programming error, caught by the tests)."""


class CatalogError(ValueError):
    """A catalog file that is incomplete or inconsistent with the default language."""


def _placeholders(entry: Entry) -> set[str]:
    forms = entry.values() if isinstance(entry, dict) else [entry]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


@cache
def _load(directory: Path) -> dict[str, dict[str, Entry]]:
    catalogs: dict[str, dict[str, Entry]] = {}
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise CatalogError(f"{path.name}: a JSON object of key → text expected")
        catalogs[path.stem] = data
    return catalogs


class Catalog:
    def __init__(self, default_language: str = DEFAULT_LANGUAGE, directory: Path = MESSAGES_DIR) -> None:
        self._texts = _load(directory)
        if default_language not in self._texts:
            default_language = DEFAULT_LANGUAGE
        self.default_language = default_language
        self._check()

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._texts)

    def supports(self, language: str | None) -> bool:
        return language in self._texts

    def text(self, key: str, language: str | None, **params: object) -> str:
        """The text of `key` in `language` (the default language if that one is not in the catalog)."""
        texts = self._texts.get(language or "", self._texts[self.default_language])
        try:
            entry = texts[key]
        except KeyError:
            raise UnknownText(key) from None
        if isinstance(entry, dict):
            count = params.get("count")
            entry = entry["one"] if count == 1 and "one" in entry else entry["other"]
        return entry.format(**params)

    def variants(self, key: str) -> Mapping[str, str]:
        """`key` in every language, unformatted (for texts shown before the language is known)."""
        out = {}
        for language, texts in self._texts.items():
            entry = texts[key]
            out[language] = entry if isinstance(entry, str) else entry["other"]
        return out

    def variants_all(self, language: str) -> Mapping[str, str]:
        """Every key of `language` with its (plural: `other`) template, for checks and translators."""
        return {key: entry if isinstance(entry, str) else entry["other"]
                for key, entry in self._texts[language].items()}

    def _check(self) -> None:
        reference = self._texts[DEFAULT_LANGUAGE]
        for language, texts in self._texts.items():
            missing = reference.keys() - texts.keys()
            extra = texts.keys() - reference.keys()
            if missing or extra:
                raise CatalogError(f"{language}.json: missing {sorted(missing)}, unknown {sorted(extra)}")
            for key, entry in texts.items():
                if _placeholders(entry) != _placeholders(reference[key]):
                    raise CatalogError(f"{language}.json: {key} has placeholders {sorted(_placeholders(entry))}, "
                                       f"{DEFAULT_LANGUAGE}.json has {sorted(_placeholders(reference[key]))}")
