"""SLA breach detection with reminders, business-hours deadlines, and the idle auto-close."""

from __future__ import annotations

import json
import os
import time

import pytest
from support import agent_token

from chalicelib import ids
from chalicelib.routing.models import BusinessHours


@pytest.fixture
def clock():
    offset = {"s": 0.0}
    ids.set_clock(lambda: time.time() + offset["s"])
    yield offset
    ids.set_clock(None)


def test_sla_breach_is_flagged_once_escalated_to_supervisors_then_reminded(desk, clock):
    desk.agent("amy")
    desk.agent("sue", role="supervisor")
    supervisor = desk.connect_agent("sue", agent_token("sue", "supervisor"), online=False)
    assert desk.rest("PUT", "/admin/sla-policies/urgent", desk.admin,
                     {"first_response_minutes": 5, "resolution_minutes": 60, "business_hours": False})[0] == 200
    desk.config(sla_reminder_minutes=10)
    status, ticket = desk.rest("POST", "/tickets", agent_token("amy"),
                               {"subject": "refund", "priority": "urgent", "assignee": "amy", "tags": ["Refund"]})
    assert status == 201 and ticket["status"] == "open" and ticket["tags"] == ["refund"]
    assert ticket["first_response_due_ms"] - ticket["created_ms"] == 5 * 60_000

    assert desk.sweep()["breaches"] == 0
    clock["s"] = 6 * 60
    assert desk.sweep()["breaches"] == 1
    assert desk.sweep()["breaches"] == 0  # flagged once
    alert = desk.frames(supervisor, "sla_breach")[-1]
    assert alert["ticket_id"] == ticket["ticket_id"] and alert["breached"] == ["first_response"]
    clock["s"] = 17 * 60
    assert desk.sweep()["reminders"] == 1
    assert desk.frames(supervisor, "sla_reminder")

    # the assignee answers and solves it: no more watching; every change is audited
    tid = ticket["ticket_id"]
    status, patched = desk.rest("PATCH", f"/tickets/{tid}", agent_token("amy"),
                                {"comment": "refunded", "public": True, "status": "solved"})
    assert status == 200 and patched["status"] == "solved"
    clock["s"] = 120 * 60
    assert desk.sweep()["breaches"] == 0
    _, full = desk.rest("GET", f"/tickets/{tid}", desk.admin)
    assert [a["action"] for a in full["audit"]] == ["created", "sla_breached", "reminder_sent", "updated"]
    # forbidden: another agent cannot read or take it; closed is final
    assert desk.rest("GET", f"/tickets/{tid}", agent_token("ben"))[0] == 403
    assert desk.rest("PATCH", f"/tickets/{tid}", desk.admin, {"status": "closed"})[0] == 200
    assert desk.rest("PATCH", f"/tickets/{tid}", desk.admin, {"status": "open"})[1]["code"] == "invalid_transition"


def test_business_hours_deadlines_skip_closed_time():
    hours = BusinessHours(timezone="Europe/Paris", days={d: [{"start": "09:00", "end": "17:00"}]
                                                         for d in ("mon", "tue", "wed", "thu", "fri")})
    friday_4pm = 1736467200000 + 15 * 3600_000  # 2025-01-10 16:00 Paris (15:00 UTC)
    due = hours.add_business_seconds(friday_4pm, 2 * 3600)  # 1 h on Friday, 1 h on Monday
    assert ids.iso_from_ms(due) == "2025-01-13T09:00:00.000Z"  # Monday 10:00 Paris
    assert hours.is_open(friday_4pm) and not hours.is_open(friday_4pm + 2 * 3600_000)


def test_idle_conversations_close_and_free_the_agent(desk, clock):
    desk.config(idle_close_minutes=15, csat_enabled=False)
    agent = desk.connect_agent("amy", desk.agent("amy"))
    customer = desk.connect_customer("zed")
    ack = desk.say(customer, "hello?", "z1")
    desk.lam.send(customer, {"action": "requestHuman"})
    desk.drain()
    desk.lam.send(agent, {"action": "accept", "conversation_id": ack["conversation_id"]})
    lively = desk.connect_customer("yan")
    desk.say(lively, "first", "y1")

    clock["s"] = 10 * 60
    desk.say(lively, "still here", "y2")
    assert desk.sweep()["idle_closed"] == 0
    clock["s"] = 20 * 60
    assert desk.sweep()["idle_closed"] == 1
    _, context = desk.rest("GET", f"/agent/conversations/{ack['conversation_id']}", desk.admin)
    assert context["conversation"]["status"] == "closed"
    _, agents = desk.rest("GET", "/supervisor/agents", desk.admin)
    assert agents[0]["load"] == 0
    clock["s"] = 30 * 60
    assert desk.sweep()["idle_closed"] == 1  # the lively one, once idle too


def test_a_later_message_in_the_same_idle_bucket_keeps_the_conversation_open(desk, clock):
    """The idle index moves once per five-minute bucket (a message writes no index entry, issue 13), so
    its sort key can be older than the latest message: the sweep checks the message counter too."""
    from chalicelib.agents.relay import IDLE_BUCKET_MS

    desk.config(idle_close_minutes=15, csat_enabled=False)
    now_ms = ids.now_ms()
    clock["s"] = (IDLE_BUCKET_MS - now_ms % IDLE_BUCKET_MS + 1000) / 1000  # one second into a bucket
    customer = desk.connect_customer("una")
    desk.say(customer, "first", "u1")
    clock["s"] += 4 * 60  # still the same bucket
    desk.say(customer, "second", "u2")

    clock["s"] += 11.5 * 60  # 15.5 min after the first message, 11.5 after the second
    assert desk.sweep()["idle_closed"] == 0
    clock["s"] += 4 * 60  # now 15.5 min after the second
    assert desk.sweep()["idle_closed"] == 1


def test_erasing_a_customer_who_waits_in_the_queue_removes_the_queue_entry(desk, aws):
    """The waiting queue is sharded: erasure finds the entry in its shard (issue 16 with issue 13)."""
    from chalicelib.store.codec import decode

    customer = desk.connect_customer("queued-quinn")
    ack = desk.say(customer, "a person please", "q1")
    desk.lam.send(customer, {"action": "requestHuman"})
    desk.drain()
    _, queue = desk.rest("GET", "/supervisor/queue", desk.admin)
    assert [e["conversation_id"] for e in queue] == [ack["conversation_id"]]

    status, record = desk.rest("DELETE", "/customers/queued-quinn", desk.admin, {"reason": "erasure request"})
    assert status == 200 and record["status"] == "completed", record
    scan = aws.client("dynamodb").get_paginator("scan").paginate(TableName=os.environ["TABLE_NAME"])
    items = [decode(i) for page in scan for i in page["Items"]]
    assert [(i["pk"], i["sk"]) for i in items if "queued-quinn" in json.dumps(i, default=str)] == []
    assert desk.rest("GET", "/supervisor/queue", desk.admin)[1] == []


def test_a_closed_conversation_leaves_the_idle_index_and_the_old_bucketed_index_is_migrated(desk, clock, aws):
    """Upgrading from the bucketed idle index (IDLE#<bucket> and a sweep cursor): the next sweep moves the
    conversations still open there, at their recorded activity, and closes them once idle."""
    from chalicelib.agents.relay import IDLE_BUCKET_MS
    from chalicelib.store import keys

    desk.config(idle_close_minutes=15, csat_enabled=False)
    customer = desk.connect_customer("old-olga")
    ack = desk.say(customer, "from before the upgrade", "o1")
    db, table = aws.client("dynamodb"), os.environ["TABLE_NAME"]
    meta = {"pk": {"S": keys.conversation_pk(ack["conversation_id"])}, "sk": {"S": keys.META_SK}}
    now = ids.now_ms()
    bucket = now // IDLE_BUCKET_MS
    db.update_item(TableName=table, Key=meta, UpdateExpression="SET gsi2pk = :p, gsi2sk = :s",
                   ExpressionAttributeValues={":p": {"S": keys.legacy_idle_bucket_pk(bucket)},
                                              ":s": {"S": f"{now:013d}#{ack['conversation_id']}"}})
    db.put_item(TableName=table, Item={"pk": {"S": keys.CONFIG_PK}, "sk": {"S": keys.IDLE_SWEEP_SK},
                                       "bucket": {"N": str(bucket - 3)}})

    assert desk.sweep()["idle_closed"] == 0
    moved = db.get_item(TableName=table, Key=meta, ConsistentRead=True)["Item"]
    assert moved["gsi2pk"]["S"].startswith(keys.IDLE_PK_PREFIX)
    assert "Item" not in db.get_item(TableName=table, Key={"pk": {"S": keys.CONFIG_PK},
                                                           "sk": {"S": keys.IDLE_SWEEP_SK}})
    clock["s"] = 16 * 60
    assert desk.sweep()["idle_closed"] == 1
    closed = db.get_item(TableName=table, Key=meta, ConsistentRead=True)["Item"]
    assert closed["status"]["S"] == "closed" and "gsi2pk" not in closed and "gsi2sk" not in closed
