"""Erlang C staffing: agents needed per hour for a service-level target.

With arrival rate ``lambda`` (contacts/hour) and average handle time ``AHT`` (seconds) the offered
traffic is ``A = lambda * AHT / 3600`` Erlangs. For ``N > A`` agents the probability of waiting is
``C(N, A) = N * B / (N - A * (1 - B))`` with the Erlang B value ``B`` computed by the stable
recursion ``B_0 = 1, B_k = A * B_{k-1} / (k + A * B_{k-1})`` (no factorials or powers). The
service level is ``1 - C * exp(-(N - A) * T / AHT)`` and the average speed of answer
``C * AHT / (N - A)``. ``agents_required`` returns the smallest ``N`` meeting the target (and an
optional occupancy cap), and ``staffing_plan`` applies it to every hour of a forecast.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Sequence


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability of an M/M/N/N system (stable recursion)."""
    if traffic < 0 or agents < 0:
        raise ValueError("traffic and agents must be non-negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a contact has to wait (M/M/N); 1.0 when ``agents <= traffic``."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1.0 - b))


def service_level(traffic: float, agents: int, aht_seconds: float, target_seconds: float) -> float:
    """Share of contacts answered within ``target_seconds``."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    c = erlang_c(traffic, agents)
    return 1.0 - c * math.exp(-(agents - traffic) * target_seconds / aht_seconds)


def average_speed_of_answer(traffic: float, agents: int, aht_seconds: float) -> float:
    """Mean wait in seconds over all contacts (infinite when ``agents <= traffic``)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(traffic, agents) * aht_seconds / (agents - traffic)


class StaffingResult(BaseModel):
    """Agents needed for one interval and the figures they achieve."""

    arrivals_per_hour: float
    traffic_erlangs: float
    agents: int
    scheduled_agents: int
    service_level: float
    probability_wait: float
    asa_seconds: float
    occupancy: float


def agents_required(
    arrivals_per_hour: float,
    aht_seconds: float,
    *,
    target_service_level: float = 0.8,
    target_seconds: float = 20.0,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
    max_agents: int = 10_000,
) -> StaffingResult:
    """Smallest agent count meeting the service level (and ``max_occupancy``), plus shrinkage."""
    if arrivals_per_hour < 0 or aht_seconds <= 0:
        raise ValueError("arrivals must be >= 0 and AHT > 0")
    if not 0 < target_service_level < 1 or not 0 <= shrinkage < 1:
        raise ValueError("target service level must be in (0, 1) and shrinkage in [0, 1)")
    traffic = arrivals_per_hour * aht_seconds / 3600.0
    n = max(1, math.floor(traffic) + 1) if traffic > 0 else 0
    while n <= max_agents:
        occupancy = traffic / n if n else 0.0
        if service_level(traffic, n, aht_seconds, target_seconds) >= target_service_level and (
            max_occupancy is None or occupancy <= max_occupancy
        ):
            break
        n += 1
    else:
        raise ValueError("target not reachable within max_agents")
    return StaffingResult(
        arrivals_per_hour=arrivals_per_hour,
        traffic_erlangs=traffic,
        agents=n,
        scheduled_agents=math.ceil(n / (1.0 - shrinkage)) if n else 0,
        service_level=service_level(traffic, n, aht_seconds, target_seconds),
        probability_wait=erlang_c(traffic, n) if n else 0.0,
        asa_seconds=average_speed_of_answer(traffic, n, aht_seconds) if n else 0.0,
        occupancy=traffic / n if n else 0.0,
    )


class StaffingRow(StaffingResult):
    """One hour of a staffing plan."""

    hour_start: datetime


def staffing_plan(
    hours: Sequence[datetime],
    arrivals_per_hour: Sequence[float],
    aht_seconds: float,
    **kwargs: float | None,
) -> list[StaffingRow]:
    """``agents_required`` for every hour (e.g. ``forecast.timestamps`` and ``forecast.values``)."""
    return [
        StaffingRow(hour_start=h, **agents_required(a, aht_seconds, **kwargs).model_dump())  # type: ignore[arg-type]
        for h, a in zip(hours, arrivals_per_hour, strict=True)
    ]
