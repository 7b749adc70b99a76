"""The supervisor's metrics API: KPIs, live counters and the demand forecast (``/metrics/*``).

Every call needs ``Authorization: Bearer <agent token>`` (HS256, AGENT_TOKEN_SECRET) with role
``supervisor`` or ``admin``: a missing token is 401, a customer's, a plain agent's or a forged
token 403. Query parameters are validated with pydantic; errors are ``DomainError``s that the
route turns into their status and ``{"code", "message"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from chalicelib import ids
from chalicelib.auth import tokens
from chalicelib.errors import Forbidden, InvalidInput

from .kpis import DEFAULT_TABLE, AthenaEngine, ReportWindow, athena_query, compute_kpis, load_sql

logger = Logger(child=True)

SUPERVISOR_ROLES = {"supervisor", "admin"}
MAX_KPI_DAYS = 92


def _parse_when(value: Any, *, end_of_day: bool = False) -> Any:
    """ISO date (``2026-11-01``, start of that UTC day; with ``end_of_day`` the next midnight) or datetime."""
    if isinstance(value, str) and len(value) == 10:
        day = date.fromisoformat(value)
        moment = datetime.combine(day, time(0), tzinfo=UTC)
        return moment + timedelta(days=1) if end_of_day else moment
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class KpiQuery(BaseModel):
    """``from`` and ``to`` (ISO dates or datetimes, UTC); ``to`` as a date includes that whole day."""

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> Any:
        return _parse_when(value)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> Any:
        return _parse_when(value, end_of_day=True)

    @model_validator(mode="after")
    def _span(self) -> KpiQuery:
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        if self.end - self.start > timedelta(days=MAX_KPI_DAYS):
            raise ValueError(f"at most {MAX_KPI_DAYS} days per request")
        return self


class ForecastQuery(BaseModel):
    days: int = Field(default=7, ge=1, le=14)
    history_days: int = Field(default=28, ge=3, le=91)
    service_level: float = Field(default=0.8, gt=0, lt=1)
    target_seconds: float = Field(default=20, gt=0, le=3600)


def parse_query(model: type[BaseModel], query: Mapping[str, str] | None) -> Any:
    try:
        return model.model_validate(dict(query or {}))
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                   for e in exc.errors(include_input=False)]
        raise InvalidInput("invalid query parameters", code="invalid_query", details=details) from exc


class _PrefetchingAthena:
    """Starts every KPI query of a window at once, so a report takes one query's time, not sixteen."""

    def __init__(self, engine: AthenaEngine, names: list[str]) -> None:
        self._engine, self._names = engine, names
        self._started: dict[tuple[str, str], str] = {}

    def run(self, sql: str, window: ReportWindow) -> list[dict[str, Any]]:
        if not self._started:
            for name in self._names:
                text = load_sql(name)
                self._started[(text, window.model_dump_json())] = self._engine.start(
                    athena_query(text, window, DEFAULT_TABLE))
        query_id = self._started.get((sql, window.model_dump_json()))
        if query_id is None:
            return self._engine.run(sql, window)
        self._engine.wait(query_id)
        return self._engine.results(query_id)


class MetricsApi:
    def __init__(self, settings: Any, secret: Callable[[str], str], live: Any,
                 engine_factory: Callable[[], Any], queue_stats: Callable[[], dict[str, Any]],
                 verify_agent: Callable[[str | None], tokens.AgentClaims] | None = None) -> None:
        self._settings = settings
        self._verify_agent = verify_agent or (lambda token: tokens.verify_agent(token, secret("AGENT_TOKEN_SECRET")))
        self._secret = secret
        self._live = live
        self._engine_factory = engine_factory
        self._queue_stats = queue_stats

    def authorize(self, headers: Mapping[str, str] | None) -> tokens.AgentClaims:
        authorization = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
        claims = self._verify_agent(tokens.bearer_token(authorization))
        if claims.role not in SUPERVISOR_ROLES:
            raise Forbidden("the supervisor or admin role is required", code="forbidden")
        return claims

    def _engine(self, names: list[str]) -> Any:
        engine = self._engine_factory()
        return _PrefetchingAthena(engine, names) if isinstance(engine, AthenaEngine) else engine

    @staticmethod
    def _close(engine: Any) -> None:
        close = getattr(engine, "close", None)
        if callable(close):
            close()

    def kpis(self, query: Mapping[str, str] | None) -> dict[str, Any]:
        q: KpiQuery = parse_query(KpiQuery, query)
        from .kpis import KPI_QUERIES

        engine = self._engine([sql for sql, *_ in KPI_QUERIES.values()])
        try:
            report = compute_kpis(engine, q.start, q.end)
        finally:
            self._close(engine)
        return report.model_dump(mode="json")

    def live(self) -> dict[str, Any]:
        day, counters = self._live.today()
        try:
            queue = self._queue_stats()
        except Exception:
            logger.exception("queue stats unavailable")
            queue = {}
        return {"day": day, "as_of": ids.iso_from_ms(ids.now_ms()), **counters,
                "queue_length": queue.get("queue_length"), "agents_online": queue.get("agents_online")}

    def forecast(self, query: Mapping[str, str] | None) -> dict[str, Any]:
        from .planning import NotEnoughHistory, plan

        q: ForecastQuery = parse_query(ForecastQuery, query)
        engine = self._engine(["volume_by_hour", "handle_time", "containment"])  # plan()'s queries, one window
        try:
            result = plan(engine, datetime.fromtimestamp(ids.now_ms() / 1000, UTC), days=q.days,
                          history_days=q.history_days, target_service_level=q.service_level,
                          target_seconds=q.target_seconds)
        except NotEnoughHistory as exc:
            raise InvalidInput(str(exc), code="not_enough_history") from exc
        finally:
            self._close(engine)
        return result.model_dump(mode="json")


def routing_queue_stats() -> dict[str, Any]:
    """Waiting conversations and online agents from the routing domain's store (None if absent)."""
    from chalicelib import wiring

    routing_store = getattr(wiring, "routing_store", None)
    if routing_store is None:
        return {}
    store = routing_store()
    return {"queue_length": len(store.waiting()), "agents_online": len(store.online_agents())}
