"""The message path through local/fault_proxy.py: 10 % of DynamoDB and Kinesis calls fail (throttling, 5xx,
connection resets, and writes whose reply is lost after moto applied them), and DynamoDB paused for 12 s.

Clients behave as the SDK does: a frame answered with a retryable `error` (or by API Gateway's
"Internal server error", i.e. an exception) is sent again with the same `client_msg_id` until acked.
Checked against moto directly (not through the proxy): every message acked and stored exactly once.
Its effects (the fan-out to the customer's other device, the `message_in` analytics event) are checked
to happen exactly once in the tests marked `effects`; they fail today because the idempotency record
is written before the effects run (issue 13, class 1: the lead's effects outbox), see their reasons.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import pytest
from support import customer_token

from local.fault_proxy import Rule

CUSTOMERS = [f"f{i:02d}" for i in range(10)]
PER_CUSTOMER = 5
FAULTS = ("throttle", "5xx", "reset", "lost_reply")


def _send_until_acked(lam: Any, api: Any, conn: str, client_msg_id: str, text: str,
                      attempts: int = 12) -> dict[str, Any]:
    """The SDK's behaviour: resend the same frame on a retryable error or a 500, up to `attempts` times."""
    told = []
    for _ in range(attempts):
        seen = len(api.frames[conn])
        try:
            lam.send(conn, {"action": "sendMessage", "client_msg_id": client_msg_id, "text": text})
        except Exception as exc:  # API Gateway answers "Internal server error": the client retries
            told.append(f"500: {exc!r}")
            continue
        answers = [f for f in api.frames[conn][seen:] if f.get("client_msg_id") == client_msg_id]
        acks = [f for f in answers if f.get("type") == "ack"]
        if acks:
            return acks[-1]
        errors = [f for f in answers if f.get("type") == "error"]
        assert errors, f"{client_msg_id}: the client was told nothing (neither ack nor error)"
        assert all(e.get("retryable") for e in errors), errors
        told.append(errors[-1]["code"])
    raise AssertionError(f"{client_msg_id} never acked after {attempts} attempts: {told}")


def _stored(proxy: Any, conversation_ids: set[str]) -> Counter[str]:
    """client_msg_id -> how many customer message items moto holds for it."""
    db = proxy.direct("dynamodb")
    counts: Counter[str] = Counter()
    for conversation_id in conversation_ids:
        pages = db.get_paginator("query").paginate(
            TableName=os.environ["TABLE_NAME"], KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues={":pk": {"S": f"CONV#{conversation_id}"}, ":m": {"S": "MSG#"}})
        for page in pages:
            for item in page["Items"]:
                if item.get("sender", {}).get("M", {}).get("type", {}).get("S") == "customer":
                    counts[item["client_msg_id"]["S"]] += 1
    return counts


def _message_in_events(proxy: Any) -> Counter[str]:
    kinesis = proxy.direct("kinesis")
    name = os.environ["INTERACTIONS_STREAM_NAME"]
    counts: Counter[str] = Counter()
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in kinesis.get_records(ShardIterator=iterator, Limit=10000)["Records"]:
            for line in record["Data"].decode().splitlines():
                event = json.loads(line)
                for one in event if isinstance(event, list) else [event]:
                    if one.get("event_type") == "message_in":
                        counts[one["message_id"]] += 1
    return counts


def _run_conversations(lam: Any, api: Any, proxy: Any, rules: list[Rule]) -> dict[str, Any]:
    for customer in CUSTOMERS:  # two devices each, connected before the faults start
        token = customer_token(customer)
        assert lam.connect(f"{customer}-a", token)["statusCode"] == 200
        assert lam.connect(f"{customer}-b", token)["statusCode"] == 200
    proxy.configure(rules, seed=13)
    proxy.reset_counters()
    acks = {}
    for n in range(PER_CUSTOMER):
        for customer in CUSTOMERS:
            cmid = f"{customer}-m{n}"
            acks[cmid] = _send_until_acked(lam, api, f"{customer}-a", cmid, f"order {n} of {customer}")
    stats = proxy.state.snapshot()
    proxy.clear()
    return {"acks": acks, "stats": stats}


@pytest.fixture
def chat(fault_proxy: Any, lam_server: Any, management_api: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BOT_ENABLED", "false")  # the bot's own answers are checked with the outbox (class 1)
    return lam_server, management_api, fault_proxy


def _ten_percent() -> list[Rule]:
    return [Rule("dynamodb", "*", 0.10, FAULTS), Rule("kinesis", "*", 0.10, ("throttle", "5xx", "reset"))]


def test_ten_percent_faults_every_message_acked_and_stored_once(chat):
    lam, api, proxy = chat
    run = _run_conversations(lam, api, proxy, _ten_percent())
    total = len(CUSTOMERS) * PER_CUSTOMER
    assert run["stats"]["faults_total"] >= 0.05 * run["stats"]["requests_total"], run["stats"]
    conversations = {a["conversation_id"] for a in run["acks"].values()}
    assert len(conversations) == len(CUSTOMERS), "one conversation per customer, however often a frame was retried"
    stored = _stored(proxy, conversations)
    assert len(run["acks"]) == total and set(stored) == set(run["acks"]), "no message lost"
    assert max(stored.values()) == 1, f"stored twice: {[k for k, v in stored.items() if v > 1]}"
    seqs = [(a["conversation_id"], a["seq"]) for a in run["acks"].values()]
    assert len(set(seqs)) == total, "every message acked with its own seq"
    print(f"\nfaults: {run['stats']['faults_total']} of {run['stats']['requests_total']} requests failed "
          f"({run['stats']['faults']}); {total} messages acked, each stored once")


def test_ten_percent_faults_effects_happen_once(chat):
    lam, api, proxy = chat
    run = _run_conversations(lam, api, proxy, _ten_percent())
    missing, doubled = [], []
    for cmid, ack in run["acks"].items():
        customer = cmid.split("-")[0]
        got = Counter(f["message"]["message_id"] for f in api.of_type(f"{customer}-b", "message"))
        if got[ack["message_id"]] == 0:
            missing.append(cmid)
        elif got[ack["message_id"]] > 1:
            doubled.append(cmid)
    events = _message_in_events(proxy)
    no_event = [c for c, a in run["acks"].items() if events[a["message_id"]] == 0]
    twice = [c for c, a in run["acks"].items() if events[a["message_id"]] > 1]
    assert (missing, doubled, no_event, twice) == ([], [], [], []), (
        f"fan-out missing {len(missing)}, doubled {len(doubled)}; message_in missing {len(no_event)}, "
        f"doubled {len(twice)} of {len(run['acks'])} messages; faults {run['stats']['faults']}")


def test_dynamodb_paused_twelve_seconds_messages_acked_after_and_stored_once(chat):
    lam, api, proxy = chat
    token = customer_token("paused")
    assert lam.connect("paused-a", token)["statusCode"] == 200
    assert lam.connect("paused-b", token)["statusCode"] == 200
    first = _send_until_acked(lam, api, "paused-a", "p-0", "before the pause")
    proxy.pause("dynamodb", 12)  # longer than the client's 10 s read timeout
    started = time.monotonic()
    ack = _send_until_acked(lam, api, "paused-a", "p-1", "during the pause", attempts=6)
    assert time.monotonic() - started >= 11, "the pause was in force"
    after = _send_until_acked(lam, api, "paused-a", "p-2", "after the pause")
    stored = _stored(proxy, {first["conversation_id"]})
    assert stored == Counter({"p-0": 1, "p-1": 1, "p-2": 1})
    assert ack["seq"] not in (first["seq"], after["seq"])


def test_dynamodb_paused_twelve_seconds_effects_happen_once(chat):
    lam, api, proxy = chat
    token = customer_token("paused")
    assert lam.connect("paused-a", token)["statusCode"] == 200
    assert lam.connect("paused-b", token)["statusCode"] == 200
    proxy.pause("dynamodb", 12)
    ack = _send_until_acked(lam, api, "paused-a", "p-1", "during the pause", attempts=6)
    got = Counter(f["message"]["message_id"] for f in api.of_type("paused-b", "message"))
    assert got[ack["message_id"]] == 1, f"the other device got it {got[ack['message_id']]} times"
