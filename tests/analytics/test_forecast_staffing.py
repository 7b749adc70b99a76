"""Forecast beats seasonal-naive on held-out synthetic data; Erlang C matches textbook values."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from chalicelib.analytics.forecast import (
    error_metrics,
    evaluate_forecast,
    forecast_hourly,
    hourly_series,
    seasonal_naive,
)
from chalicelib.analytics.staffing import (
    agents_required,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
    staffing_plan,
)

START = datetime(2024, 3, 4, tzinfo=UTC)  # Monday 00:00


def synthetic(weeks: int, seed: int, trend_per_week: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(weeks * 168)
    hour, dow = t % 24, (t // 24) % 7
    daily = 10 + 40 * np.exp(-((hour - 14) ** 2) / 18)  # afternoon peak
    weekly = np.where(dow >= 5, 0.6, 1.0)  # quieter weekends
    mean = daily * weekly + trend_per_week * t / 168
    return rng.poisson(mean).astype(float)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_forecast_beats_seasonal_naive(seed: int) -> None:
    y = synthetic(8, seed)
    ev = evaluate_forecast(y, START)
    assert ev.model.mae < 0.85 * ev.seasonal_naive.mae
    assert ev.model.smape < ev.seasonal_naive.smape
    assert ev.model.mape is not None and ev.model.mape < ev.seasonal_naive.mape
    print(
        f"seed {seed}: model MAE {ev.model.mae:.2f} sMAPE {ev.model.smape:.1f}% vs naive MAE "
        f"{ev.seasonal_naive.mae:.2f} sMAPE {ev.seasonal_naive.smape:.1f}% ({ev.improvement_mae:.0%} lower)"
    )


def test_forecast_shape_and_calendar() -> None:
    y = synthetic(4, 7)
    fc = forecast_hourly(y, START, 168)
    assert len(fc.values) == len(fc.timestamps) == 168
    assert fc.timestamps[0] == datetime(2024, 4, 1, tzinfo=UTC) and fc.method.startswith("hour-of-week")
    assert all(lo <= v <= hi for lo, v, hi in zip(fc.lower, fc.values, fc.upper, strict=True))
    day = np.array(fc.values[:24])
    assert 12 <= int(day.argmax()) <= 16 and day.max() > 3 * day.min()  # afternoon peak learnt
    assert np.mean(fc.values[120:168]) < np.mean(fc.values[:120])  # weekend quieter


def test_short_history_and_log_scale() -> None:
    y = synthetic(1, 9)[:120]
    fc = forecast_hourly(y, START, 48, log_scale=True)
    assert fc.method == "hour-of-day+day-of-week log" and min(fc.values) >= 0
    with pytest.raises(ValueError):
        forecast_hourly([1.0] * 10, START)


def test_error_metrics_and_helpers() -> None:
    m = error_metrics([0, 10, 20], [0, 12, 15])
    assert m.mae == pytest.approx(7 / 3) and m.mape == pytest.approx(100 * (0.2 + 0.25) / 2)
    assert m.smape == pytest.approx(100 * (0 + 4 / 22 + 10 / 35) / 3)
    assert seasonal_naive([1, 2, 3, 4], 6, period=2) == [3, 4, 3, 4, 3, 4]
    pts = [(datetime(2024, 3, 4, 1, 30, tzinfo=UTC), 2), (datetime(2024, 3, 4, 1, 0, tzinfo=UTC), 1)]
    assert hourly_series(pts, START, datetime(2024, 3, 4, 3, tzinfo=UTC)) == [0.0, 3.0, 0.0]


# ----------------------------------------------------------------------------- Erlang C
def test_erlang_c_textbook_values() -> None:
    # 10 Erlangs (e.g. 200 contacts/h, AHT 180 s): classic call-centre table.
    assert erlang_c(10, 11) == pytest.approx(0.6821, abs=1e-4)
    assert erlang_c(10, 12) == pytest.approx(0.4494, abs=1e-4)
    assert erlang_c(10, 13) == pytest.approx(0.2853, abs=1e-4)
    assert erlang_c(10, 14) == pytest.approx(0.1741, abs=1e-4)
    assert service_level(10, 14, 180, 20) == pytest.approx(0.8884, abs=1e-4)
    assert average_speed_of_answer(10, 14, 180) == pytest.approx(0.1741 * 180 / 4, abs=0.01)
    # M/M/1: C = rho; M/M/2 with A = 1: C = 1/3
    assert erlang_c(0.5, 1) == pytest.approx(0.5) and erlang_c(1.0, 2) == pytest.approx(1 / 3)
    assert erlang_b(2, 3) == pytest.approx((8 / 6) / (1 + 2 + 2 + 8 / 6))


def test_agents_required_80_20() -> None:
    r = agents_required(200, 180, target_service_level=0.8, target_seconds=20)
    assert r.traffic_erlangs == pytest.approx(10) and r.agents == 14
    assert r.service_level == pytest.approx(0.8884, abs=1e-4) and r.occupancy == pytest.approx(10 / 14)
    assert agents_required(200, 180, max_occupancy=0.7).agents == 15
    assert agents_required(200, 180, shrinkage=0.3).scheduled_agents == 20
    assert agents_required(0, 180).agents == 0


def test_large_traffic_is_numerically_stable() -> None:
    r = agents_required(36_000, 300)  # 3000 Erlangs
    assert 3000 < r.agents < 3100 and math.isfinite(r.asa_seconds) and 0.8 <= r.service_level < 0.9
    assert erlang_c(3000, 2999) == 1.0 and 0 < erlang_c(3000, 3050) < 1


def test_staffing_plan() -> None:
    hours = [datetime(2024, 3, 4, h, tzinfo=UTC) for h in range(3)]
    plan = staffing_plan(hours, [0, 20, 200], 180)
    assert [p.agents for p in plan] == [0, 3, 14] and plan[2].hour_start == hours[2]
