"""KPI SQL on DuckDB equals an independent Python computation; Athena request/response handling."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.analytics.archive import EventArchiver
from chalicelib.analytics.kpis import (
    AthenaEngine,
    AthenaQueryError,
    DuckDBEngine,
    KpiReport,
    ReportWindow,
    athena_query,
    compute_kpis,
    load_sql,
    query_names,
)

from .kpi_fixture import END, START, expected_kpis, fixture_events
from .test_archive import kinesis_event

BUCKET = "kpi-archive"


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> KpiReport:
    """Archive the fixture to moto S3 (twice overlapping, to exercise dedupe), then run DuckDB over S3."""
    import os

    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            events = fixture_events()
            archiver = EventArchiver(s3, BUCKET)
            assert archiver.handle(kinesis_event(events, start_seq=0)) == {"batchItemFailures": []}
            # a re-sent slice with new sequence numbers -> duplicate rows in other objects
            assert archiver.handle(kinesis_event(events[:10], start_seq=5000)) == {"batchItemFailures": []}
            with DuckDBEngine(tmp_path_factory.mktemp("duck"), s3_client=s3, bucket=BUCKET) as engine:
                return compute_kpis(engine, START, END)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return expected_kpis(fixture_events(), START, END)


def test_volume(report: KpiReport, expected: dict) -> None:
    assert {
        v.channel: (v.conversations, v.messages_in, v.messages_out) for v in report.volume_by_channel
    } == expected["volume_by_channel"]
    assert {(h.hour_start, h.channel): h.messages_in for h in report.volume_by_hour} == expected[
        "volume_by_hour"
    ]
    got = {i.intent: (i.decisions, round(i.avg_confidence, 9)) for i in report.volume_by_intent}
    assert got == expected["volume_by_intent"]


def test_response_handle_resolution(report: KpiReport, expected: dict) -> None:
    fr = report.first_response
    n_bot, avg_bot, n_human, avg_human = expected["first_response"]
    assert (fr.bot_responses, fr.human_responses) == (n_bot, n_human)
    assert close(fr.avg_bot_first_response_seconds, avg_bot) and close(
        fr.avg_human_first_response_seconds, avg_human
    )
    n, avg, avg_agent = expected["handle_time"]
    assert report.handle_time.resolutions == n
    assert close(report.handle_time.avg_handle_seconds, avg)
    assert close(report.handle_time.avg_agent_handle_seconds, avg_agent)
    n, avg, mx = expected["resolution_time"]
    rt = report.resolution_time
    assert rt.resolved_conversations == n and close(rt.avg_resolution_seconds, avg)
    assert close(rt.max_resolution_seconds, mx)
    resolved, fcr, rate = expected["fcr"]
    f = report.first_contact_resolution
    assert (f.resolved_conversations, f.first_contact_resolved) == (resolved, fcr) and close(f.fcr_rate, rate)


def test_containment_escalation_queue_abandonment(report: KpiReport, expected: dict) -> None:
    c = report.containment
    convs, bot, esc, contained, rate, esc_rate = expected["containment"]
    assert (c.conversations, c.bot_handled, c.escalated, c.contained) == (convs, bot, esc, contained)
    assert close(c.containment_rate, rate) and close(c.escalation_rate, esc_rate)
    assert {r.reason: r.handoffs for r in report.escalation_reasons} == expected["escalation_reasons"]
    q = report.queue_wait
    n, avg, mx, over = expected["queue_wait"]
    assert (
        (q.waits, q.waits_over_60s) == (n, over)
        and close(q.avg_wait_seconds, avg)
        and close(q.max_wait_seconds, mx)
    )
    closed, abandoned, rate = expected["abandonment"]
    a = report.abandonment
    assert (a.closed, a.abandoned) == (closed, abandoned) and close(a.abandonment_rate, rate)


def test_csat_nps_sla(report: KpiReport, expected: dict) -> None:
    n, avg, satisfied, dist = expected["csat"]
    assert report.csat.responses == n and close(report.csat.avg_score, avg)
    assert close(report.csat.satisfied_rate, satisfied) and report.csat.distribution == dist
    n, promoters, detractors, nps = expected["nps"]
    p = report.nps
    assert (p.responses, p.promoters, p.detractors) == (n, promoters, detractors) and close(p.nps, nps)
    tickets, breached, rate = expected["sla"]
    s = report.sla
    assert (s.tickets, s.breached_tickets) == (tickets, breached) and close(s.breach_rate, rate)
    assert (s.first_response_breaches, s.resolution_breaches) == (1, 1)


def test_hot_topics_and_trends(report: KpiReport, expected: dict) -> None:
    assert {h.intent: (h.current_count, h.previous_count) for h in report.hot_topics} == expected[
        "hot_topics"
    ]
    assert report.hot_topics[0].intent == "refund" and close(report.hot_topics[0].growth, 2.0)
    assert {d.day: d.conversations for d in report.daily_trends if d.conversations} == expected[
        "daily_conversations"
    ]
    day1 = report.daily_trends[0]
    assert day1.day.isoformat() == "2024-05-06" and close(day1.avg_csat, 3.5) and day1.sla_breaches == 1


def test_hand_checked_figures(report: KpiReport) -> None:
    """A few figures worked out by hand from kpi_fixture.py, independent of both implementations."""
    assert report.first_response.avg_bot_first_response_seconds == pytest.approx((30 + 30 + 60 + 15) / 4)
    assert report.first_response.avg_human_first_response_seconds == pytest.approx((180 + 540) / 2)
    assert report.containment.containment_rate == pytest.approx(3 / 5)
    assert report.nps.nps == pytest.approx(100 * (1 - 1) / 3)
    assert report.abandonment.abandonment_rate == pytest.approx(1 / 4)


def test_empty_archive(tmp_path: Path) -> None:
    with DuckDBEngine(tmp_path) as engine:
        rep = compute_kpis(engine, START, END)
    assert rep.containment.conversations == 0 and rep.csat.avg_score is None and rep.volume_by_channel == []


def test_local_directory_engine(tmp_path: Path) -> None:
    import gzip
    import json

    from chalicelib.analytics.events import parse_event, to_json

    folder = tmp_path / "events" / "dt=2024-05-06" / "hour=09"
    folder.mkdir(parents=True)
    rows = [to_json(parse_event(e)) for e in fixture_events()]
    (folder / "a.jsonl.gz").write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    with DuckDBEngine(tmp_path) as engine:
        rep = compute_kpis(engine, START, END)
    assert rep.csat.responses == 3 and json.loads(rows[0])["event_type"] == "message_in"


# ----------------------------------------------------------------------------- Athena
def test_athena_query_keeps_sql_verbatim() -> None:
    window = ReportWindow(start=START, end=END)
    for name in query_names():
        q = athena_query(load_sql(name), window)
        assert load_sql(name).rstrip() in q
        assert "e.dt BETWEEN '2024-05-04' AND '2024-05-07'" in q
        assert "TIMESTAMP '2024-05-06 00:00:00.000' AS start_ts" in q


def _athena_stub(aws_env: None):
    from botocore.stub import Stubber

    client = boto3.client("athena", region_name="us-east-1")
    return client, Stubber(client)


def test_athena_engine_request_and_pagination(aws_env: None) -> None:
    from botocore.stub import ANY

    client, stub = _athena_stub(aws_env)
    sql = load_sql("csat")
    window = ReportWindow(start=START, end=END)
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": athena_query(sql, window),
            "QueryExecutionContext": {"Database": "cs_analytics"},
            "WorkGroup": "analytics",
            "ResultConfiguration": {"OutputLocation": "s3://out/athena/"},
        },
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "RUNNING"}}},
        {"QueryExecutionId": "q-1"},
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
        {"QueryExecutionId": "q-1"},
    )
    cols = [
        {"Name": "responses", "Type": "bigint"},
        {"Name": "avg_score", "Type": "double"},
        {"Name": "satisfied_rate", "Type": "double"},
    ]
    header = {"Data": [{"VarCharValue": c["Name"]} for c in cols]}
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [header, {"Data": [{"VarCharValue": "3"}, {"VarCharValue": "3.5"}, {}]}],
                "ResultSetMetadata": {"ColumnInfo": [{**c, "CatalogName": "hive"} for c in cols]},
            },
            "NextToken": "t2",
        },
        {"QueryExecutionId": "q-1", "MaxResults": 1000},
    )
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": "4"}, {"VarCharValue": "4.0"}, {"VarCharValue": "0.5"}]}]
            }
        },
        {"QueryExecutionId": "q-1", "MaxResults": 1000, "NextToken": "t2"},
    )
    sleeps: list[float] = []
    engine = AthenaEngine(
        client, "cs_analytics", workgroup="analytics", output_location="s3://out/athena/", sleep=sleeps.append
    )
    with stub:
        rows = engine.run(sql, window)
    stub.assert_no_pending_responses()
    assert rows == [
        {"responses": 3, "avg_score": 3.5, "satisfied_rate": None},
        {"responses": 4, "avg_score": 4.0, "satisfied_rate": 0.5},
    ]
    assert sleeps == [1.0]
    _ = ANY


def test_athena_failure_and_timeout(aws_env: None) -> None:
    client, stub = _athena_stub(aws_env)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "SYNTAX_ERROR: line 1"}}},
    )
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-3"})
    for _ in range(3):
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "QUEUED"}}})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-3"})
    now = [0.0]
    engine = AthenaEngine(
        client,
        "db",
        poll_interval=1.0,
        timeout=3.0,
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        clock=lambda: now[0],
    )
    window = ReportWindow(start=START, end=END)
    with stub:
        with pytest.raises(AthenaQueryError, match="SYNTAX_ERROR"):
            engine.run("SELECT 1", window)
        with pytest.raises(AthenaQueryError, match="timed out"):
            engine.run("SELECT 1", window)
    stub.assert_no_pending_responses()


def test_compute_kpis_with_fake_engine() -> None:
    class Fake:
        def run(self, sql: str, window: ReportWindow) -> list[dict]:
            assert window.prev_start == datetime(2024, 5, 4, tzinfo=UTC)
            if sql == load_sql("csat"):
                return [
                    {
                        "responses": "2",
                        "avg_score": "4.5",
                        "satisfied_rate": "1.0",
                        "score_1": "0",
                        "score_2": "0",
                        "score_3": "0",
                        "score_4": "1",
                        "score_5": "1",
                    }
                ]
            return []

    rep = compute_kpis(Fake(), START, END)
    assert rep.csat.avg_score == 4.5 and rep.csat.distribution[5] == 1 and rep.containment.conversations == 0
