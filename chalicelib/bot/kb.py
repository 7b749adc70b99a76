"""The bot's knowledge base: intents / FAQ entries, versioned, in the single table.

An entry has a name (the intent), example questions, an answer per language (``zh``, ``en``),
optional display titles (used for quick replies), tags and an ``enabled`` flag. Every change
(create, update, delete, import) bumps the KB version in the same DynamoDB transaction as the
entry itself (optimistic concurrency on ``META.version``), so a version number always names one
state of the KB, and it is followed by a retraining job on the training queue.

Items (see ``docs/data-model.md``): ``KB#<kb>/META`` holds ``version``; ``KB#<kb>/INTENT#<name>``
one entry each, with ``kb_version`` = the version that last changed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib import ids
from chalicelib.bot.action_spec import ActionSpec
from chalicelib.errors import Conflict, NotFound
from chalicelib.store import keys
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.table import Table, TransactionCancelled

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

LANGUAGES = ("zh", "en")
INTENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# Transactions hold at most 100 items: one is the META version bump.
IMPORT_CHUNK = 99
_MAX_RETRIES = 5

Language = Literal["zh", "en"]


class PerLanguage(BaseModel):
    """A text per supported language; at least one must be given where it is required."""

    model_config = ConfigDict(extra="forbid")

    zh: str | None = Field(default=None, max_length=4000)
    en: str | None = Field(default=None, max_length=4000)

    @field_validator("zh", "en")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def get(self, language: str) -> str | None:
        """The text in ``language``, else in the other language."""
        first = getattr(self, language, None) if language in LANGUAGES else None
        return first or self.zh or self.en

    def is_empty(self) -> bool:
        return not (self.zh or self.en)


class IntentBody(BaseModel):
    """A KB entry as a client writes it (PUT /kb/intents/{name}, or one entry of an import)."""

    model_config = ConfigDict(extra="forbid")

    examples: list[str] = Field(default_factory=list, max_length=500)
    answers: PerLanguage = Field(default_factory=PerLanguage)
    titles: PerLanguage = Field(default_factory=PerLanguage)
    tags: list[str] = Field(default_factory=list, max_length=20)
    enabled: bool = True
    # -- issue 14: the company API this intent answers from (chalicelib/bot/actions), validated on save
    action: ActionSpec | None = None

    @field_validator("examples")
    @classmethod
    def _clean_examples(cls, value: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for text in value:
            text = str(text).strip()
            if len(text) > 500:
                raise ValueError("an example is at most 500 characters")
            if text:
                seen.setdefault(text, None)
        return list(seen)

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, value: list[str]) -> list[str]:
        return sorted({t.strip() for t in value if t and t.strip()})

    @model_validator(mode="after")
    def _usable(self) -> IntentBody:
        if self.enabled and not self.examples:
            raise ValueError("an enabled entry needs at least one example question")
        if self.enabled and self.answers.is_empty():
            raise ValueError("an enabled entry needs an answer in at least one language")
        return self


class Intent(IntentBody):
    """A stored KB entry."""

    model_config = ConfigDict(extra="ignore")

    name: str
    kb_version: int = 0
    updated_ms: int = 0
    updated_by: str | None = None

    @model_validator(mode="after")
    def _usable(self) -> Intent:  # stored entries were validated on the way in
        return self

    def title(self, language: str) -> str:
        """Display title for a quick reply: the title, else the first example in that language."""
        if t := self.titles.get(language):
            return t
        from chalicelib.bot.nlu.language import detect_language

        same = [e for e in self.examples if detect_language(e) == language]
        return (same or self.examples or [self.name])[0]

    def body(self) -> dict[str, Any]:
        body = self.model_dump(include={"examples", "answers", "titles", "tags", "enabled", "action"})
        if body.get("action") is None:
            body.pop("action", None)
        return body


class KnowledgeBaseDocument(BaseModel):
    """The JSON import/export format: ``{"version": n, "intents": {name: entry, ...}}``."""

    model_config = ConfigDict(extra="ignore")

    version: int | None = None
    intents: dict[str, IntentBody] = Field(default_factory=dict, max_length=2000)

    @field_validator("intents")
    @classmethod
    def _names(cls, value: dict[str, IntentBody]) -> dict[str, IntentBody]:
        for name in value:
            check_name(name)
        return value


class ImportRequest(KnowledgeBaseDocument):
    """POST /kb/import: ``replace`` deletes the entries the document does not list."""

    replace: bool = False


@dataclass(frozen=True)
class Snapshot:
    """The KB at one version."""

    version: int
    intents: list[Intent]
    updated_ms: int = 0

    def enabled(self) -> list[Intent]:
        return [i for i in self.intents if i.enabled]

    def training_examples(self) -> list[tuple[str, str]]:
        """Example questions of the enabled intents, plus their answers and titles in each language.

        Answers and titles are written in the business's own words and name what the intent is
        about; as extra examples they help most with few example questions (few-shot in-scope
        accuracy on telecom_faq_zh_en rose by 7-9 points).
        """
        questions = [(text, i.name) for i in self.enabled() for text in i.examples]
        if not questions:  # answers alone do not make a trainable knowledge base
            return questions
        return questions + [(text, i.name) for i in self.enabled() for extra in (i.answers, i.titles)
                            for lang in LANGUAGES if (text := getattr(extra, lang))]

    def document(self) -> dict[str, Any]:
        return {"version": self.version, "intents": {i.name: i.body() for i in self.intents}}


def check_name(name: str) -> str:
    from chalicelib.errors import InvalidInput

    if not INTENT_NAME.match(name or ""):
        raise InvalidInput("an intent name is 1-64 characters: lower-case letters, digits, '_', '.', '-'",
                           code="invalid_intent_name", details={"name": name})
    return name


class KnowledgeBaseStore:
    """KB entries and the version counter in the single table."""

    def __init__(self, table: Table, kb_id: str = "default") -> None:
        self._table = table
        self.kb_id = kb_id
        self._pk = keys.kb_pk(kb_id)

    # -- reads -------------------------------------------------------------------------------

    def version(self, *, consistent: bool = True) -> int:
        item = self._table.get_item(Key=self._key(keys.KB_META_SK),
                                 ConsistentRead=consistent).get("Item")
        meta = decode(item)
        return int(meta.get("version", 0)) if meta else 0

    def get(self, name: str) -> Intent | None:
        item = self._table.get_item(Key=self._key(keys.kb_intent_sk(name)),
                                 ConsistentRead=True).get("Item")
        return Intent.model_validate(decode(item)) if item else None

    def snapshot(self) -> Snapshot:
        """Version first, then the entries: the entries are at least as new as the version."""
        meta = self._table.get_item(Key=self._key(keys.KB_META_SK),
                                 ConsistentRead=True).get("Item")
        meta = decode(meta) or {}
        items = self._table.query_all(ConsistentRead=True,
                          KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
                          ExpressionAttributeValues={":pk": encode_value(self._pk),
                                                     ":p": encode_value(keys.KB_INTENT_SK_PREFIX)})
        intents = sorted((Intent.model_validate(decode(i)) for i in items), key=lambda i: i.name)
        return Snapshot(int(meta.get("version", 0)), intents, int(meta.get("updated_ms", 0)))

    def actions(self) -> dict[str, ActionSpec]:
        """-- issue 14: the enabled intents' actions, by intent name (read when the version moved)."""
        return {i.name: i.action for i in self.snapshot().intents if i.enabled and i.action}

    # -- writes (each one bumps the version in the same transaction) ---------------------------

    def put(self, name: str, body: IntentBody, *, actor: str | None, if_version: int | None = None) -> Intent:
        check_name(name)

        def items(version: int, now: int) -> list[dict[str, Any]]:
            intent = Intent(name=name, kb_version=version, updated_ms=now, updated_by=actor, **body.model_dump())
            return [{"Put": {"Item": self._intent_item(intent)}}]

        version = self._commit(items, if_version)
        return Intent(name=name, kb_version=version, updated_by=actor, **body.model_dump())

    def delete(self, name: str, *, actor: str | None, if_version: int | None = None) -> int:
        def items(version: int, now: int) -> list[dict[str, Any]]:
            return [{"Delete": {"Key": self._key(keys.kb_intent_sk(name)),
                                "ConditionExpression": "attribute_exists(pk)"}}]

        try:
            return self._commit(items, if_version)
        except _ItemConditionFailed as exc:
            raise NotFound(f"intent {name} not found", code="intent_not_found") from exc

    def replace_all(self, document: KnowledgeBaseDocument, *, actor: str | None, replace: bool,
                    if_version: int | None = None) -> tuple[int, int, int]:
        """Import: upsert every entry of ``document`` (and delete the others if ``replace``).

        Returns (version, written, deleted). Up to 99 entries are written atomically with the version
        bump; a larger import is applied in chunks, each its own version.
        """
        existing = {i.name for i in self.snapshot().intents} if replace else set()
        deletes = sorted(existing - set(document.intents))
        ops: list[tuple[str, IntentBody | None]] = [(n, b) for n, b in sorted(document.intents.items())]
        ops += [(n, None) for n in deletes]
        if not ops:
            return self.version(), 0, 0
        version = 0
        for start in range(0, len(ops), IMPORT_CHUNK):
            chunk = ops[start : start + IMPORT_CHUNK]

            def items(version: int, now: int,
                      chunk: list[tuple[str, IntentBody | None]] = chunk) -> list[dict[str, Any]]:
                out = []
                for name, body in chunk:
                    if body is None:
                        out.append({"Delete": {"Key": self._key(keys.kb_intent_sk(name))}})
                    else:
                        intent = Intent(name=name, kb_version=version, updated_ms=now, updated_by=actor,
                                        **body.model_dump())
                        out.append({"Put": {"Item": self._intent_item(intent)}})
                return out

            version = self._commit(items, if_version if start == 0 else None)
        return version, len(document.intents), len(deletes)

    def _commit(self, build: Callable[[int, int], list[dict[str, Any]]], if_version: int | None) -> int:
        """Bump META.version from the version read to +1 together with ``build``'s items; retry races."""
        for _ in range(_MAX_RETRIES):
            current = self.version()
            if if_version is not None and current != if_version:
                raise Conflict("the knowledge base changed since you read it", code="version_conflict",
                               details={"current_version": current, "expected_version": if_version})
            new, now = current + 1, ids.now_ms()
            condition = "attribute_not_exists(pk)" if current == 0 else "version = :old"
            bump: dict[str, Any] = {"Update": {
                "Key": self._key(keys.KB_META_SK),
                "UpdateExpression": "SET version = :new, updated_ms = :now, kb_id = :kb",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": {":new": encode_value(new), ":now": encode_value(now),
                                              ":kb": encode_value(self.kb_id),
                                              **({":old": encode_value(current)} if current else {})},
            }}
            try:
                self._table.transact([bump, *build(new, now)])
                return new
            except TransactionCancelled as exc:
                if exc.codes and exc.codes[0] == "ConditionalCheckFailed":
                    continue  # another writer bumped the version first: re-read and retry
                if "ConditionalCheckFailed" in exc.codes[1:]:
                    raise _ItemConditionFailed() from exc
                raise
        raise Conflict("the knowledge base is being changed concurrently; retry", code="version_conflict")

    def _key(self, sk: str) -> dict[str, Any]:
        return {"pk": encode_value(self._pk), "sk": encode_value(sk)}

    def _intent_item(self, intent: Intent) -> dict[str, Any]:
        return encode({"pk": self._pk, "sk": keys.kb_intent_sk(intent.name), **intent.model_dump()})


class _ItemConditionFailed(Exception):
    pass


def _action_cell(intent: str, cell: str) -> object:
    import json

    from chalicelib.errors import InvalidInput

    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise InvalidInput("the action column holds the action as a JSON object", code="invalid_csv",
                           details={"intent": intent}) from exc


def entries_from_examples(examples: Iterable[tuple[str, str]],
                          answers: Iterable[dict[str, str]]) -> KnowledgeBaseDocument:
    """A KB document from ``(text, label)`` examples and ``intent,answer_zh,answer_en[,title_*,tags]`` rows."""
    grouped: dict[str, dict[str, Any]] = {}
    for text, label in examples:
        label = label.strip()
        if label and label.lower() != "oos":
            grouped.setdefault(label, {"examples": []})["examples"].append(text)
    for row in answers:
        name = (row.get("intent") or "").strip()
        if not name:
            continue
        entry = grouped.setdefault(name, {"examples": []})
        entry["answers"] = {lang: row.get(f"answer_{lang}") or None for lang in LANGUAGES}
        titles = {lang: row.get(f"title_{lang}") or None for lang in LANGUAGES}
        if any(titles.values()):
            entry["titles"] = titles
        if row.get("tags"):
            entry["tags"] = [t for t in re.split(r"[;|]", row["tags"]) if t.strip()]
        if row.get("enabled", "").strip().lower() in ("0", "false", "no"):
            entry["enabled"] = False
        if (row.get("action") or "").strip():  # -- issue 14: the action as a JSON object in one cell
            entry["action"] = _action_cell(name, row["action"])
    return KnowledgeBaseDocument.model_validate({"intents": grouped})
