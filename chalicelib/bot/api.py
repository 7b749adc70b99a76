"""REST API of the knowledge base (routes in ``app.py``, under ``/kb``).

Authentication: ``Authorization: Bearer <agent JWT>`` (HS256, AGENT_TOKEN_SECRET). Any agent role may
read; only ``supervisor`` and ``admin`` may write. Every write bumps the KB version and queues a
retraining job; the answer carries the new ``version`` and whether the job was queued. Writes accept
an optional ``If-Match: <version>`` header (409 ``version_conflict`` if the KB moved on meanwhile).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.auth.roles import ANY_ROLE, SUPERVISORS
from chalicelib.bot import kb_io
from chalicelib.bot.kb import ImportRequest, IntentBody, KnowledgeBaseDocument, KnowledgeBaseStore, check_name
from chalicelib.bot.training import TrainingQueue, TrainJob
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.http import json_response, parse_body, rest_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from chalice.app import Request, Response

    from chalicelib.auth.authenticator import AgentAuthenticator

logger = Logger(child=True)

READERS = ANY_ROLE
WRITERS = SUPERVISORS


class CsvImportRequest(BaseModel):
    """POST /kb/import/csv: the two CSV files as strings."""

    model_config = ConfigDict(extra="forbid")

    examples_csv: str = Field(min_length=1, max_length=5_000_000)
    answers_csv: str | None = Field(default=None, max_length=5_000_000)
    replace: bool = False


def _if_match(request: Request) -> int | None:
    headers: Mapping[str, str] = request.headers or {}
    value = headers.get("if-match") or headers.get("If-Match")
    if not value:
        return None
    try:
        return int(str(value).strip().strip('"'))
    except ValueError as exc:
        raise InvalidInput("If-Match must be a knowledge-base version number", code="invalid_if_match") from exc


class KnowledgeBaseApi:
    def __init__(self, store: KnowledgeBaseStore, queue: TrainingQueue, auth: AgentAuthenticator,
                 model_pointer: Callable[[], Any]) -> None:
        self._auth = auth
        self._model_pointer = model_pointer
        self._store = store
        self._queue = queue

    def _retrain(self, version: int, actor: str) -> bool:
        try:
            return self._queue.enqueue(TrainJob(kb_id=self._store.kb_id, version=version, requested_by=actor))
        except Exception:  # the KB change is committed; the next change or POST /kb/train retrains
            logger.exception("could not queue the retraining job", extra={"kb_version": version})
            return False

    # -- reads -------------------------------------------------------------------------------

    @rest_errors
    def list(self, request: Request) -> Response:
        model_pointer = self._model_pointer()
        self._auth.claims(request, READERS)
        snapshot = self._store.snapshot()
        return json_response({
            "version": snapshot.version,
            "intents": [i.model_dump(exclude={"updated_by"}) for i in snapshot.intents],
            "model": model_pointer.model_dump() if model_pointer is not None else None,
        })

    def intent(self, request: Request, name: str) -> Response:
        """GET, PUT or DELETE one intent."""
        return {"GET": self.get, "PUT": self.put, "DELETE": self.delete}[request.method](request, name)

    @rest_errors
    def get(self, request: Request, name: str) -> Response:
        self._auth.claims(request, READERS)
        intent = self._store.get(check_name(name))
        if intent is None:
            raise NotFound(f"intent {name} not found", code="intent_not_found")
        return json_response(intent.model_dump())

    @rest_errors
    def export(self, request: Request) -> Response:
        self._auth.claims(request, READERS)
        query: Mapping[str, str] = request.query_params or {}
        fmt = (query.get("format") or "json").lower()
        snapshot = self._store.snapshot()
        if fmt == "json":
            return json_response(snapshot.document())
        if fmt in ("examples_csv", "answers_csv"):
            from chalice.app import Response

            body = kb_io.to_examples_csv(snapshot) if fmt == "examples_csv" else kb_io.to_answers_csv(snapshot)
            return Response(body=body, status_code=200, headers={"Content-Type": "text/csv; charset=utf-8",
                                                                 "X-KB-Version": str(snapshot.version)})
        raise InvalidInput("format must be json, examples_csv or answers_csv", code="invalid_format")

    # -- writes ------------------------------------------------------------------------------

    @rest_errors
    def put(self, request: Request, name: str) -> Response:
        claims = self._auth.claims(request, WRITERS)
        body = parse_body(request, IntentBody)
        intent = self._store.put(check_name(name), body, actor=claims.sub, if_version=_if_match(request))
        queued = self._retrain(intent.kb_version, claims.sub)
        return json_response({"version": intent.kb_version, "training_queued": queued,
                              "intent": intent.model_dump()})

    @rest_errors
    def delete(self, request: Request, name: str) -> Response:
        claims = self._auth.claims(request, WRITERS)
        version = self._store.delete(check_name(name), actor=claims.sub, if_version=_if_match(request))
        return json_response({"version": version, "training_queued": self._retrain(version, claims.sub)})

    @rest_errors
    def import_json(self, request: Request) -> Response:
        claims = self._auth.claims(request, WRITERS)
        document = parse_body(request, ImportRequest)
        return self._import(document, document.replace, claims.sub, _if_match(request))

    @rest_errors
    def import_csv(self, request: Request) -> Response:
        claims = self._auth.claims(request, WRITERS)
        body = parse_body(request, CsvImportRequest)
        document = kb_io.from_csv(body.examples_csv, body.answers_csv)
        return self._import(document, body.replace, claims.sub, _if_match(request))

    def _import(self, document: KnowledgeBaseDocument, replace: bool, actor: str, if_version: int | None) -> Response:
        if not document.intents and not replace:
            raise InvalidInput("the document has no intents", code="empty_import")
        version, written, deleted = self._store.replace_all(document, actor=actor, replace=replace,
                                                            if_version=if_version)
        queued = self._retrain(version, actor) if written or deleted else False
        return json_response({"version": version, "written": written, "deleted": deleted,
                              "training_queued": queued})

    @rest_errors
    def train(self, request: Request) -> Response:
        claims = self._auth.claims(request, WRITERS)
        version = self._store.version()
        return json_response({"version": version, "training_queued": self._retrain(version, claims.sub)}, 202)
