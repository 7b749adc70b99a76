"""GET /metrics/kpis, /metrics/live and /metrics/forecast: supervisors only, figures from the archive."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from analytics_flow import archive, stream_records
from support import ROOT, agent_token, customer_token


@pytest.fixture
def client(lam, aws):
    from chalice.test import Client

    # Two customers, three messages, through the WebSocket handlers; the stream archived to S3.
    lam.connect("K1=", customer_token("kim"))
    lam.connect("L1=", customer_token("lee"))
    lam.send("K1=", {"action": "sendMessage", "client_msg_id": "k1", "text": "where is my parcel"})
    lam.send("K1=", {"action": "sendMessage", "client_msg_id": "k2", "text": "order 123"})
    lam.send("L1=", {"action": "sendMessage", "client_msg_id": "l1", "text": "refund please"})
    _, records = stream_records(aws)
    assert archive(lam.app, records) == {"batchItemFailures": []}
    with Client(lam.app.app, stage_name="local", project_dir=str(ROOT)) as test_client:
        yield test_client


def _get(client, path: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.http.get(path, headers=headers)
    return response.status_code, json.loads(response.body or b"null")


def test_supervisor_gets_kpis_from_the_archive(client):
    today = datetime.now(UTC).date().isoformat()
    status, body = _get(client, f"/metrics/kpis?from={today}&to={today}", agent_token("sue", "supervisor"))
    assert status == 200, body
    assert sum(v["conversations"] for v in body["volume_by_channel"]) == 2
    assert sum(v["messages_in"] for v in body["volume_by_channel"]) == 3
    assert body["start"].startswith(today) and "containment" in body and "csat" in body


@pytest.mark.parametrize(("token", "status"), [
    (agent_token("al", "agent"), 403),
    (customer_token("kim"), 403),  # a customer's token is signed with another secret
    (agent_token("sue", "supervisor", secret="forged-secret-0123456789abcdef0123"), 403),
    (None, 401),
])
def test_non_supervisors_are_refused(client, token, status):
    for path in ("/metrics/kpis?from=2026-01-01&to=2026-01-02", "/metrics/live", "/metrics/forecast"):
        got, body = _get(client, path, token)
        assert got == status and body["code"] in {"role_forbidden", "token_invalid", "token_missing"}


def test_kpi_query_is_validated(client):
    token = agent_token("ada", "admin")
    assert _get(client, "/metrics/kpis?from=2026-02-01&to=2026-01-01", token)[0] == 400
    status, body = _get(client, "/metrics/kpis?from=2025-01-01&to=2026-01-01", token)
    assert status == 400 and body["code"] == "invalid_query"


def test_live_counters_follow_todays_traffic(client):
    status, body = _get(client, "/metrics/live", agent_token("sue", "supervisor"))
    assert status == 200, body
    assert body["day"] == datetime.now(UTC).date().isoformat()
    assert body["messages_in"] == 3 and body["conversations"] == 2 and body["channel_app"] == 2
    assert body["messages_out"] >= 0 and "queue_length" in body and "agents_online" in body


def test_forecast_needs_history(client):
    status, body = _get(client, "/metrics/forecast?days=3", agent_token("sue", "supervisor"))
    assert status == 400 and body["code"] == "not_enough_history"
