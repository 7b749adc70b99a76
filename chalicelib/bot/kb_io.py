"""Knowledge-base import and export formats: JSON documents and the two CSV files.

* JSON: ``{"version": n, "intents": {"track_order": {"examples": [...], "answers": {"zh": ..., "en": ...},
  "titles": {...}, "tags": [...], "enabled": true}, ...}}`` (what ``GET /kb/export`` returns).
* CSV: examples ``text,label`` (one example question a row; label ``oos`` rows are ignored) plus
  answers ``intent,answer_zh,answer_en`` (optional ``title_zh,title_en,tags,enabled,action`` columns;
  ``action`` is the intent's action as a JSON object, see ``chalicelib/bot/actions/spec.py``).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from pydantic import ValidationError

from chalicelib.bot.kb import LANGUAGES, KnowledgeBaseDocument, Snapshot, entries_from_examples
from chalicelib.errors import InvalidInput

EXAMPLE_COLUMNS = ("text", "label")
ANSWER_COLUMNS = ("intent", "answer_zh", "answer_en", "title_zh", "title_en", "tags", "enabled")
ACTION_COLUMN = "action"  # -- issue 14: exported only when an intent has an action


def _rows(text: str, required: tuple[str, ...], what: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"the {what} CSV needs the columns {', '.join(required)}", code="invalid_csv",
                           details={"missing_columns": missing, "columns": reader.fieldnames or []})
    return [{k: (v or "") for k, v in row.items() if k} for row in reader]


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False, include_input=False)]


def from_csv(examples_csv: str, answers_csv: str | None) -> KnowledgeBaseDocument:
    """A document from the examples CSV and (optionally) the answers CSV."""
    examples = [(r["text"], r["label"]) for r in _rows(examples_csv, EXAMPLE_COLUMNS, "examples")]
    answers = _rows(answers_csv, ("intent",), "answers") if answers_csv else []
    try:
        return entries_from_examples(examples, answers)
    except ValidationError as exc:
        raise InvalidInput("the CSV does not make a valid knowledge base", code="invalid_kb",
                           details=validation_details(exc)) from exc


def from_json(data: str | bytes | dict[str, Any]) -> KnowledgeBaseDocument:
    try:
        raw = json.loads(data) if isinstance(data, str | bytes) else data
        return KnowledgeBaseDocument.model_validate(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput("the body is not valid JSON", code="invalid_json") from exc
    except ValidationError as exc:
        raise InvalidInput("the JSON does not make a valid knowledge base", code="invalid_kb",
                           details=validation_details(exc)) from exc


def to_examples_csv(snapshot: Snapshot) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXAMPLE_COLUMNS)
    for intent in snapshot.intents:
        for text in intent.examples:
            writer.writerow([text, intent.name])
    return out.getvalue()


def to_answers_csv(snapshot: Snapshot) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with_actions = any(i.action for i in snapshot.intents)
    writer.writerow((*ANSWER_COLUMNS, ACTION_COLUMN) if with_actions else ANSWER_COLUMNS)
    for i in snapshot.intents:
        action = [json.dumps(i.action.model_dump(exclude_none=True), ensure_ascii=False) if i.action else ""]
        writer.writerow([i.name, *(getattr(i.answers, lang) or "" for lang in LANGUAGES),
                         *(getattr(i.titles, lang) or "" for lang in LANGUAGES), ";".join(i.tags),
                         "true" if i.enabled else "false", *(action if with_actions else [])])
    return out.getvalue()
