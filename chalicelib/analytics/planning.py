"""Demand forecast and staffing plan from the archive: what ``GET /metrics/forecast`` and the CLI show.

``plan(engine, until, days)`` reads the hourly conversation volume of the last ``history_days``
before ``until`` (the ``volume_by_hour`` KPI query), the measured agent handle time
(``handle_time``) and escalation rate (``containment``), forecasts the next ``days`` x 24 hours,
converts the forecast conversations into contacts that reach an agent (x escalation rate), and
sizes each hour with Erlang C for the service-level target (80 % answered in 20 s by default).
The forecast error on the last week of history (held out) is reported against seasonal-naive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from .forecast import WEEK, Forecast, ForecastEvaluation, evaluate_forecast, forecast_hourly, hourly_series
from .kpis import KpiEngine, ReportWindow, load_sql
from .staffing import StaffingRow, staffing_plan

DEFAULT_AHT_SECONDS = 300.0


class ForecastPlan(BaseModel):
    history_start: datetime
    history_end: datetime
    history_hours: int
    history_conversations: int
    aht_seconds: float
    aht_measured: bool
    escalation_rate: float
    target_service_level: float
    target_seconds: float
    forecast: Forecast
    staffing: list[StaffingRow]
    evaluation: ForecastEvaluation | None


class NotEnoughHistory(ValueError):
    """Fewer than 48 hours of history with any traffic."""


def _hour(ts: datetime) -> datetime:
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.replace(minute=0, second=0, microsecond=0)


def plan(
    engine: KpiEngine,
    until: datetime,
    *,
    days: int = 7,
    history_days: int = 28,
    target_service_level: float = 0.8,
    target_seconds: float = 20.0,
    aht_seconds: float | None = None,
) -> ForecastPlan:
    end = _hour(until)
    start = end - timedelta(days=history_days)
    window = ReportWindow(start=start, end=end)
    rows = engine.run(load_sql("volume_by_hour"), window)
    points = [(_parse_hour(r["hour_start"]), float(r["conversations"])) for r in rows]
    series = hourly_series(points, start, end)
    # Leading hours before the first traffic (a young deployment) are not history.
    first = next((i for i, v in enumerate(series) if v > 0), len(series))
    series, start = series[first:], start + timedelta(hours=first)
    if len(series) < 48:
        raise NotEnoughHistory(f"need at least 48 hours of history before {end:%Y-%m-%d %H:00}, have {len(series)}")

    handle = _first(engine.run(load_sql("handle_time"), window))
    measured = handle.get("avg_agent_handle_seconds") or handle.get("avg_handle_seconds")
    aht = float(aht_seconds or measured or DEFAULT_AHT_SECONDS)
    containment = _first(engine.run(load_sql("containment"), window))
    escalation = containment.get("escalation_rate")
    escalation_rate = float(escalation) if escalation is not None else 1.0

    horizon = days * 24
    forecast = forecast_hourly(series, start, horizon)
    agent_contacts = [v * escalation_rate for v in forecast.values]
    staffing = staffing_plan(forecast.timestamps, agent_contacts, aht,
                             target_service_level=target_service_level, target_seconds=target_seconds)
    evaluation = None
    holdout = min(WEEK, len(series) - WEEK)
    if holdout >= 24 and len(series) - holdout >= 48:
        evaluation = evaluate_forecast(series, start, holdout)
    return ForecastPlan(
        history_start=start, history_end=end, history_hours=len(series),
        history_conversations=int(sum(series)), aht_seconds=aht, aht_measured=bool(measured and not aht_seconds),
        escalation_rate=escalation_rate, target_service_level=target_service_level,
        target_seconds=target_seconds, forecast=forecast, staffing=staffing, evaluation=evaluation,
    )


def _first(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def _parse_hour(value: object) -> datetime:
    if isinstance(value, datetime):
        return _hour(value)
    return _hour(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
