"""REST API of the missed questions (routes in ``app.py``, under ``/kb/misses``; issue 14).

``GET /kb/misses?from=&to=[&limit=]`` groups the open misses of the period by meaning (the bot's
sentence encoder, :func:`chalicelib.bot.misses.cluster_misses`), largest group first, each with its
count, example texts (redacted), kinds, languages, channels, the intents the bot guessed, the agents'
replies and the KB answers they inserted. ``from`` / ``to`` are ISO dates or date-times (UTC); a bare
``to`` date includes that whole day; the default period is the last 7 days, at most 92 days.

``POST /kb/misses/{cluster}/assign`` with ``{"from", "to", "intent", "answers"?, "titles"?, "tags"?,
"texts"?}`` adds the group's texts (or the listed subset of them) as examples of ``intent``, creating the
intent when it does not exist (then ``answers`` is required); its misses are marked assigned and leave the
list. Like every KB write it bumps the KB version and queues the retraining. A group is found again by
recomputing the groups of the same period; when its id is gone (new misses arrived and the groups moved)
the answer is 409 ``cluster_changed``: list again.

Both need a KB writer's token (supervisor or admin), as the other KB writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.bot.api import WRITERS
from chalicelib.bot.kb import IntentBody, PerLanguage, check_name
from chalicelib.bot.misses import Cluster, cluster_misses
from chalicelib.bot.training import TrainJob
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.http import json_response, parse_body, rest_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from chalice.app import Request, Response

    from chalicelib.auth.authenticator import AgentAuthenticator
    from chalicelib.bot.kb import KnowledgeBaseStore
    from chalicelib.bot.misses import Miss, MissStore
    from chalicelib.bot.nlu.arrays import Float32
    from chalicelib.bot.training import TrainingQueue

logger = Logger(child=True)

DEFAULT_DAYS = 7
MAX_DAYS = 92
MAX_EXAMPLES_PER_INTENT = 500
MAX_ADDED = 100


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from", max_length=40)
    to: str | None = Field(default=None, max_length=40)
    intent: str = Field(min_length=1, max_length=64)
    answers: PerLanguage | None = None
    titles: PerLanguage | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    texts: list[str] | None = Field(default=None, max_length=MAX_ADDED)


def _parse_time(value: str, *, end: bool) -> datetime:
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).replace(tzinfo=UTC)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput("from and to are ISO dates or date-times", code="invalid_period",
                           details={"value": value[:40]}) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def period(start: str | None, end: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The ``[from, to)`` period of a request (default: the last 7 days)."""
    stop = _parse_time(end, end=True) if end else (now or datetime.now(UTC))
    begin = _parse_time(start, end=False) if start else stop - timedelta(days=DEFAULT_DAYS)
    if begin >= stop:
        raise InvalidInput("from must be before to", code="invalid_period")
    if stop - begin > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"the period is at most {MAX_DAYS} days", code="invalid_period")
    return begin, stop


class MissesApi:
    """``embed(texts)`` gives the centred unit vectors the bot's encoder makes of ``texts``."""

    def __init__(self, auth: AgentAuthenticator, misses: MissStore, embed: Callable[[Sequence[str]], Float32],
                 kb: KnowledgeBaseStore, queue: TrainingQueue) -> None:
        self._auth = auth
        self._misses = misses
        self._embed = embed
        self._kb = kb
        self._queue = queue

    def _clusters(self, start: datetime, stop: datetime) -> tuple[list[Miss], list[Cluster]]:
        misses = self._misses.between(start, stop)
        if not misses:
            return misses, []
        return misses, cluster_misses(misses, self._embed([m.text for m in misses]))

    @rest_errors
    def list(self, request: Request) -> Response:
        self._auth.claims(request, WRITERS)
        params: Mapping[str, str] = request.query_params or {}
        start, stop = period(params.get("from"), params.get("to"))
        try:
            limit = max(1, min(200, int(params.get("limit") or 50)))
        except ValueError as exc:
            raise InvalidInput("limit is a number", code="invalid_limit") from exc
        misses, clusters = self._clusters(start, stop)
        return json_response({"from": start.isoformat(), "to": stop.isoformat(), "misses": len(misses),
                              "clusters": [c.summary() for c in clusters[:limit]],
                              "more": len(clusters) > limit})

    @rest_errors
    def assign(self, request: Request, cluster_id: str) -> Response:
        claims = self._auth.claims(request, WRITERS)
        body = parse_body(request, AssignBody)
        name = check_name(body.intent)
        start, stop = period(body.from_, body.to)
        _, clusters = self._clusters(start, stop)
        cluster = next((c for c in clusters if c.id == cluster_id), None)
        if cluster is None:
            raise Conflict("no such group of misses in that period any more; list them again",
                           code="cluster_changed", details={"cluster": cluster_id[:40]})
        chosen = cluster.misses
        if body.texts is not None:
            wanted = set(body.texts)
            chosen = [m for m in cluster.misses if m.text in wanted]
            if not chosen:
                raise InvalidInput("none of the texts belongs to that group", code="texts_not_in_cluster")
        texts = list(dict.fromkeys(m.text for m in chosen if m.text.strip()))[:MAX_ADDED]
        existing = self._kb.get(name)
        if existing is None:
            if body.answers is None or body.answers.is_empty():
                raise NotFound(f"intent {name} not found; give answers to create it", code="intent_not_found")
            entry = IntentBody(examples=texts, answers=body.answers, titles=body.titles or PerLanguage(),
                               tags=body.tags or [])
            added = len(entry.examples)
        else:
            known = set(existing.examples)
            new = [t for t in texts if t not in known][: max(0, MAX_EXAMPLES_PER_INTENT - len(existing.examples))]
            update: dict[str, Any] = {"examples": [*existing.examples, *new]}
            for field_name in ("answers", "titles"):
                value = getattr(body, field_name)
                if value is not None and not value.is_empty():
                    update[field_name] = value
            if body.tags is not None:
                update["tags"] = body.tags
            entry = IntentBody.model_validate({**existing.body(), **update})
            added = len(new)
        intent = self._kb.put(name, entry, actor=claims.sub)
        try:
            queued = self._queue.enqueue(TrainJob(kb_id=self._kb.kb_id, version=intent.kb_version,
                                                  requested_by=claims.sub, reason="misses_assigned"))
        except Exception:  # the KB change is committed; the next change or POST /kb/train retrains
            logger.exception("could not queue the retraining job", extra={"kb_version": intent.kb_version})
            queued = False
        assigned = self._misses.mark_assigned(chosen, name, claims.sub)
        return json_response({"version": intent.kb_version, "intent": name, "created": existing is None,
                              "examples_added": added, "misses_assigned": assigned, "training_queued": queued})
