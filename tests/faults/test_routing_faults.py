"""The routing path under faults: escalations through the real SQS queue into `route_escalations`, offers
accepted, at 10 % DynamoDB and SQS faults (throttling, 5xx, resets, lost replies).

Eight app customers ask for a human; three online agents (capacity 3) share them. The escalation queue is
consumed as Lambda's event source mapping would: a record whose handler failed (batchItemFailures, or
the invocation) is received again, and a third of the handled ones are delivered again by SQS. Agents
accept every offer, sending `accept` again when told a retryable error. Checked on moto directly: each
conversation offered once and assigned once (one offer frame, one "has joined" message, one
`assignment` event), every agent's load equal to its assigned conversations, no waiting-queue entry
left, the escalation queue and its DLQ empty.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from faults_support import (
    QueueConsumer,
    messages,
    queue_depth,
    record_summary,
    stream_events,
    table_items,
    ten_percent,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "agents"))
from desk import Desk

from local.fault_proxy import Rule  # tests/agents' driver of the desk (REST, WebSocket, the escalation records)

AGENTS = ("amy", "ben", "cal")
CUSTOMERS = [f"rc{i:02d}" for i in range(8)]


@pytest.fixture
def desk(fault_proxy: Any, lam_server: Any, management_api: Any, aws_server: Any,
         monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BOT_ENABLED", "false")
    d = Desk(lam_server, management_api, aws_server)
    d.proxy = fault_proxy  # type: ignore[attr-defined]
    yield d
    d.close()


def _until(desk: Desk, conn: str, frame: dict[str, Any], answered: Any, attempts: int = 10) -> int:
    """Send `frame` until `answered(frames since)` holds; a retryable error (or a 500) means "again"."""
    for attempt in range(1, attempts + 1):
        seen = len(desk.api.frames[conn])
        try:
            desk.lam.send(conn, frame)
        except Exception:  # API Gateway's "Internal server error": the client sends it again
            continue
        new = desk.api.frames[conn][seen:]
        if answered(new):
            return attempt
        errors = [f for f in new if f.get("type") == "error"]
        assert all(e.get("retryable") for e in errors), errors
    raise AssertionError(f"{frame} never answered on {conn}")


def _route(desk: Desk) -> Any:
    def handler(event: dict[str, Any], context: Any) -> Any:
        try:
            return desk.app.route_escalations(event, context)
        finally:
            desk.lam.effects.drain()  # the system messages' effects, as their own event source would

    return handler


def test_escalations_offered_and_assigned_once_under_faults_and_redelivery(desk):
    proxy = desk.proxy
    for agent_id in AGENTS:
        desk.connect_agent(agent_id, desk.agent(agent_id, capacity=3))
    conversations = {}
    for customer in CUSTOMERS:
        conn = desk.connect_customer(customer)
        conversations[desk.say(conn, "my parcel is lost", f"{customer}-1")["conversation_id"]] = conn

    rules = ten_percent("dynamodb", "sqs")
    proxy.configure(rules, seed=23)
    proxy.reset_counters()
    asked = Counter()
    for conversation_id, conn in conversations.items():
        asked[_until(desk, conn, {"action": "requestHuman", "client_msg_id": "h1", "language": "en"},
                     lambda new, c=conversation_id: any(f.get("type") == "escalation" and f["conversation_id"] == c
                                                        for f in new))] += 1
    # and a burst that outlasts botocore's attempts: the first escalations' handlers fail, SQS hands them back
    burst = Rule("dynamodb", "TransactWriteItems", 1.0, ("throttle", "5xx"), limit=8)
    proxy.configure([burst, *rules], seed=23)
    consumer = QueueConsumer(proxy.direct("sqs"), os.environ["ESCALATION_QUEUE_NAME"], _route(desk),
                             redeliver=0.33, seed=23)
    consumer.drain()
    proxy.configure(rules, seed=29)
    offers = {a: [f["conversation_id"] for f in desk.frames(f"ag-{a}", "offer")] for a in AGENTS}
    accepted = Counter()
    for agent_id, offered in offers.items():
        for conversation_id in offered:
            accepted[_until(desk, f"ag-{agent_id}", {"action": "accept", "conversation_id": conversation_id},
                            lambda new, c=conversation_id: any(f.get("type") == "assigned"
                                                               and f["conversation_id"] == c for f in new))] += 1
    stats = proxy.state.snapshot()
    proxy.clear()

    offered_once = Counter(c for offered in offers.values() for c in offered)
    assert offered_once == Counter(dict.fromkeys(conversations, 1)), f"offers per conversation: {offered_once}"
    items = table_items(proxy)
    meta = {i["conversation_id"]: i for i in items
            if i.get("sk") == "META" and i.get("conversation_id") in conversations}
    assigned = {c: m.get("assigned_agent") for c, m in meta.items()}
    assert all(m.get("routing_status") == "assigned" for m in meta.values()), {c: m.get("routing_status")
                                                                                for c, m in meta.items()}
    assert {c: a for c, a in assigned.items() if c not in offers.get(a, [])} == {}, "assigned to whom it was offered"
    profiles = {i["agent_id"]: i for i in items if str(i["pk"]).startswith("AGENT#") and i.get("sk") == "PROFILE"}
    work = Counter(str(i["pk"]) for i in items if str(i["pk"]).startswith("AGENT#")
                   and str(i["sk"]).startswith("WORK#") and i.get("state") == "assigned")
    loads = {a: int(profiles[a].get("load", 0)) for a in AGENTS}
    per_agent = Counter(assigned.values())
    assert loads == {a: per_agent[a] for a in AGENTS}, f"load counters {loads}, assigned {dict(per_agent)}"
    assert sum(work.values()) == len(conversations), work
    left = [i for i in items if str(i["pk"]).startswith("QUEUE#WAITING")]
    assert left == [], f"queue entries left behind: {left}"
    joined = Counter(m["conversation_id"] for m in messages(items)
                     if m["sender"]["type"] == "system" and (m.get("meta") or {}).get("routing") == "assigned")
    assert joined == Counter(dict.fromkeys(conversations, 1)), f"'has joined' messages: {joined}"
    assignments = Counter(e["conversation_id"] for e in stream_events(proxy) if e.get("event_type") == "assignment")
    assert assignments == Counter(dict.fromkeys(conversations, 1)), f"assignment events: {assignments}"
    sqs = proxy.direct("sqs")
    name = os.environ["ESCALATION_QUEUE_NAME"]
    assert (consumer.left(), queue_depth(sqs, name + "-dlq")) == (0, 0)
    assert consumer.stats["failed"] >= 1, consumer.stats  # batchItemFailures honoured: received again
    record_summary("routing_path", stats, [burst, *rules], escalations=len(conversations), agents=len(AGENTS),
                   offers=sum(offered_once.values()), assigned=len(assigned), loads=loads,
                   request_human_attempts=dict(asked), accept_attempts=dict(accepted),
                   records_received=consumer.stats["records"], records_redelivered=consumer.stats["redelivered"],
                   records_failed_and_retried=consumer.stats["failed"], queue_entries_left=0, dead_lettered=0)
