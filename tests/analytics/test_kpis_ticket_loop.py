"""Issue 16 KPIs on DuckDB: the ticket loop's confirmation rate, and CSAT split by bot only / with agent."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib.analytics.archive import EventArchiver
from chalicelib.analytics.events import parse_event
from chalicelib.analytics.kpis import DuckDBEngine, KpiReport, compute_kpis

from ._support import T0, ev
from .test_archive import kinesis_event

START = T0.replace(hour=0)
END = START + timedelta(days=1)


def _events() -> list[dict]:
    tc = "ticket_confirmation"
    return [
        # t1 confirmed, t2 reopened then solved again and confirmed, t3 asked but never answered
        ev(tc, "A", 10, ticket_id="t1", outcome="asked"), ev(tc, "A", 20, ticket_id="t1", outcome="confirmed"),
        ev(tc, "B", 10, ticket_id="t2", outcome="asked"), ev(tc, "B", 15, ticket_id="t2", outcome="reopened"),
        ev(tc, "B", 60, ticket_id="t2", outcome="asked"), ev(tc, "B", 70, ticket_id="t2", outcome="confirmed"),
        ev(tc, "C", 10, ticket_id="t3", outcome="asked"),
        ev(tc, "D", -60 * 24, ticket_id="t4", outcome="asked"),  # the day before: outside the window
        # conversations: X and Y bot only; Z with an agent
        ev("resolution", "X", 5, resolved_by="bot", handle_seconds=30.0), ev("csat", "X", 6, score=5),
        ev("csat", "Y", 7, score=3),
        ev("assignment", "Z", 1, agent_id="amy", wait_seconds=4.0), ev("csat", "Z", 9, score=2),
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> KpiReport:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="kpis")
            events = [parse_event(e).model_dump(mode="json", exclude_none=True) for e in _events()]
            assert EventArchiver(s3, "kpis").handle(kinesis_event(events)) == {"batchItemFailures": []}
            tmp: Path = tmp_path_factory.mktemp("duck")
            with DuckDBEngine(tmp, s3_client=s3, bucket="kpis") as engine:
                return compute_kpis(engine, START, END)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_ticket_confirmation_rate(report: KpiReport) -> None:
    loop = report.ticket_confirmation
    assert (loop.asked, loop.confirmed, loop.reopened) == (3, 2, 1)
    assert loop.confirmation_rate == pytest.approx(2 / 3)
    assert loop.response_rate == pytest.approx(2 / 3)


def test_csat_split_bot_only_and_with_agent(report: KpiReport) -> None:
    split = {row.handling: row for row in report.csat_by_handling}
    assert set(split) == {"bot_only", "with_agent"}
    assert (split["bot_only"].responses, split["bot_only"].avg_score) == (2, 4.0)
    assert split["bot_only"].satisfied_rate == pytest.approx(0.5)
    assert (split["with_agent"].responses, split["with_agent"].avg_score, split["with_agent"].satisfied_rate) == \
        (1, 2.0, 0.0)
