"""Hourly contact-volume forecast with day-of-week x hour-of-day seasonality, level and trend (numpy).

``forecast_hourly`` fits ``y_t = level + trend * t + season[slot(t)]`` by exponentially weighted
least squares (recent weeks count more; a small ridge on the seasonal terms keeps the system
well-posed). With two or more weeks of history the season has 168 hour-of-week terms, otherwise it
is hour-of-day plus day-of-week. An optional log scale gives multiplicative seasonality.
``evaluate_forecast`` holds out the last ``horizon`` hours and reports MAE, MAPE and sMAPE of the
model against the seasonal-naive baseline (same hour one week earlier).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import numpy as np
    from numpy.typing import NDArray

    Floats = NDArray[np.float64]
    Ints = NDArray[np.int64]


WEEK = 168
_Z80 = 1.2815515655446004  # two-sided 80 % normal interval


class Forecast(BaseModel):
    """Hourly point forecast with an 80 % interval, starting right after the history."""

    timestamps: list[datetime]
    values: list[float]
    lower: list[float]
    upper: list[float]
    method: str


class ErrorMetrics(BaseModel):
    mae: float
    mape: float | None  # over hours with non-zero actuals
    smape: float


class ForecastEvaluation(BaseModel):
    """Held-out accuracy of the model versus the seasonal-naive baseline."""

    horizon: int
    model: ErrorMetrics
    seasonal_naive: ErrorMetrics

    @property
    def improvement_mae(self) -> float:
        """Relative MAE reduction against the baseline (0.25 = 25 % lower error)."""
        base = self.seasonal_naive.mae
        return 0.0 if base == 0 else 1.0 - self.model.mae / base


def _utc_hour(ts: datetime) -> datetime:
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.replace(minute=0, second=0, microsecond=0)


def _slots(start: datetime, n: int, offset: int = 0) -> Ints:
    import numpy as np

    base = start.weekday() * 24 + start.hour
    return (base + offset + np.arange(n)) % WEEK


def _design(slots: Ints, t: Floats, full_week: bool) -> Floats:
    import numpy as np

    n = len(slots)
    if full_week:
        season = np.zeros((n, WEEK))
        season[np.arange(n), slots] = 1.0
    else:
        season = np.zeros((n, 31))
        season[np.arange(n), slots % 24] = 1.0
        season[np.arange(n), 24 + slots // 24] = 1.0
    return np.column_stack([np.ones(n), t / WEEK, season])


def forecast_hourly(
    history: Sequence[float],
    history_start: datetime,
    horizon: int = WEEK,
    *,
    half_life_weeks: float = 3.0,
    log_scale: bool = False,
    trend: bool = True,
) -> Forecast:
    """Forecast ``horizon`` hours after an hourly ``history`` that starts at ``history_start`` (UTC)."""
    import numpy as np

    y = np.asarray(history, dtype=float)
    n = len(y)
    if n < 48:
        raise ValueError("need at least 48 hours of history")
    if np.any(y < 0) or not np.all(np.isfinite(y)):
        raise ValueError("history must be finite and non-negative")
    start = _utc_hour(history_start)
    full_week = n >= 2 * WEEK
    target = np.log1p(y) if log_scale else y
    t = np.arange(n, dtype=float)
    x = _design(_slots(start, n), t, full_week)
    if not trend or n < 3 * WEEK:
        x[:, 1] = 0.0  # too little history to tell a trend from noise
    w = 0.5 ** ((n - 1 - t) / (half_life_weeks * WEEK))
    penalty = np.full(x.shape[1], 1e-3 * w.sum())
    penalty[:2] = 1e-9 * w.sum()
    xtw = x.T * w
    beta = np.linalg.solve(xtw @ x + np.diag(penalty), xtw @ target)
    resid = target - x @ beta
    sigma = float(np.sqrt(np.sum(w * resid**2) / w.sum()))

    tf = np.arange(n, n + horizon, dtype=float)
    xf = _design(_slots(start, horizon, offset=n), tf, full_week)
    xf[:, 1] = xf[:, 1] if x[:, 1].any() else 0.0
    point = xf @ beta
    lo, hi = point - _Z80 * sigma, point + _Z80 * sigma
    if log_scale:
        point, lo, hi = np.expm1(point + sigma**2 / 2), np.expm1(lo), np.expm1(hi)

    def clip(a: Floats) -> list[float]:
        values: list[float] = np.maximum(a, 0.0).round(3).tolist()
        return values

    first = start + timedelta(hours=n)
    return Forecast(
        timestamps=[first + timedelta(hours=h) for h in range(horizon)],
        values=clip(point),
        lower=clip(lo),
        upper=clip(hi),
        method=("hour-of-week" if full_week else "hour-of-day+day-of-week")
        + (" log" if log_scale else "")
        + (" +trend" if x[:, 1].any() else ""),
    )


def seasonal_naive(history: Sequence[float], horizon: int = WEEK, period: int = WEEK) -> list[float]:
    """Baseline: the value one ``period`` earlier (repeating the last period over the horizon)."""
    if len(history) < period:
        raise ValueError("history shorter than one period")
    last = list(history[-period:])
    return [float(last[h % period]) for h in range(horizon)]


def error_metrics(actual: Sequence[float], predicted: Sequence[float]) -> ErrorMetrics:
    """MAE, MAPE (over non-zero actuals, in %) and sMAPE (in %, 0/0 counted as 0)."""
    import numpy as np

    a = np.asarray(actual, dtype=float)
    f = np.asarray(predicted, dtype=float)
    err = np.abs(f - a)
    nz = a != 0
    denom = np.abs(a) + np.abs(f)
    smape = np.where(denom > 0, 2 * err / np.where(denom > 0, denom, 1), 0.0)
    return ErrorMetrics(
        mae=float(err.mean()),
        mape=float(100 * np.mean(err[nz] / np.abs(a[nz]))) if nz.any() else None,
        smape=float(100 * smape.mean()),
    )


def evaluate_forecast(
    history: Sequence[float], history_start: datetime, horizon: int = WEEK, **kwargs: Any
) -> ForecastEvaluation:
    """Fit on all but the last ``horizon`` hours and score both forecasts on those hours."""
    train, test = list(history[:-horizon]), list(history[-horizon:])
    model = forecast_hourly(train, history_start, horizon, **kwargs)
    return ForecastEvaluation(
        horizon=horizon,
        model=error_metrics(test, model.values),
        seasonal_naive=error_metrics(test, seasonal_naive(train, horizon)),
    )


def hourly_series(points: Iterable[tuple[datetime, float]], start: datetime, end: datetime) -> list[float]:
    """Dense hourly series over ``[start, end)`` from sparse ``(hour, value)`` points (summed, gaps = 0)."""
    first = _utc_hour(start)
    n = int((_utc_hour(end) - first).total_seconds() // 3600)
    out = [0.0] * n
    for ts, value in points:
        idx = int((_utc_hour(ts) - first).total_seconds() // 3600)
        if 0 <= idx < n:
            out[idx] += float(value)
    return out
