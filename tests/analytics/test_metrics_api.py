"""MetricsApi on Athena: every KPI query is started at once, then collected (one query's latency, not 16)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.analytics.api import MetricsApi, _PrefetchingAthena
from chalicelib.analytics.kpis import KPI_QUERIES, AthenaEngine
from chalicelib.auth.authenticator import AgentAuthenticator
from chalicelib.auth.tokens import verify_agent
from chalicelib.errors import Forbidden, InvalidInput


class FakeAthena:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.polled: list[str] = []

    def start_query_execution(self, **params):
        assert params["WorkGroup"] == "cs-platform-dev-analytics"
        self.started.append(params["QueryString"])
        return {"QueryExecutionId": f"q{len(self.started)}"}

    def get_query_execution(self, QueryExecutionId):
        self.polled.append(QueryExecutionId)
        return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}

    def get_query_results(self, QueryExecutionId, MaxResults, NextToken=None):
        query = self.started[int(QueryExecutionId[1:]) - 1]
        if "Inbound volume per UTC hour" in query or "by channel" in query.lower():
            header = [{"Name": "channel", "Type": "varchar"}, {"Name": "conversations", "Type": "bigint"},
                      {"Name": "messages_in", "Type": "bigint"}, {"Name": "messages_out", "Type": "bigint"}]
            if "Inbound volume per UTC hour" in query:
                return {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": []}, "Rows": [{"Data": []}]}}
            rows = [{"Data": [{"VarCharValue": h["Name"]} for h in header]},
                    {"Data": [{"VarCharValue": "app"}, {"VarCharValue": "7"}, {"VarCharValue": "9"},
                              {"VarCharValue": "8"}]}]
            return {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": header}, "Rows": rows}}
        return {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": []}, "Rows": [{"Data": []}]}}


def _api(engine_factory):
    secrets = {"AGENT_TOKEN_SECRET": "s" * 40}
    return MetricsApi(AgentAuthenticator(lambda token: verify_agent(token, secrets["AGENT_TOKEN_SECRET"])), None,
                      engine_factory, dict)


def test_kpis_on_athena_start_every_query_before_waiting():
    athena = FakeAthena()
    engine = AthenaEngine(athena, "cs_platform_dev_analytics", workgroup="cs-platform-dev-analytics",
                          sleep=lambda s: None)
    report = _api(lambda: engine).kpis({"from": "2026-11-01", "to": "2026-11-07"})
    assert len(athena.started) == len(KPI_QUERIES)
    assert athena.polled[0] == "q1" and len(athena.polled) == len(KPI_QUERIES)
    assert report["volume_by_channel"] == [{"channel": "app", "conversations": 7, "messages_in": 9,
                                            "messages_out": 8}]
    assert report["end"].startswith("2026-11-08T00:00:00")  # 'to' as a date includes that day
    assert all("cs_platform" not in q or "interaction_events" in q for q in athena.started)


def test_prefetch_falls_back_for_unknown_sql():
    athena = FakeAthena()
    engine = _PrefetchingAthena(AthenaEngine(athena, "db", workgroup="cs-platform-dev-analytics"), ["csat"])
    from chalicelib.analytics.kpis import ReportWindow

    window = ReportWindow(start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 2, tzinfo=UTC))
    assert engine.run("SELECT 1", window) == []
    assert len(athena.started) == 2  # csat prefetched, then the unknown one on its own


def test_roles_and_query_validation():
    import time

    import jwt

    api = _api(lambda: None)
    token = jwt.encode({"sub": "a", "role": "agent", "exp": int(time.time()) + 60}, "s" * 40, algorithm="HS256")
    with pytest.raises(Forbidden):
        api.authorize({"Authorization": f"Bearer {token}"})
    token = jwt.encode({"sub": "b", "role": "supervisor", "exp": int(time.time()) + 60}, "s" * 40, algorithm="HS256")
    assert api.authorize({"authorization": f"Bearer {token}"}).role == "supervisor"
    with pytest.raises(InvalidInput):
        api.kpis({"from": "yesterday", "to": "2026-11-07"})
