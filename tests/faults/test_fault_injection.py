"""The message path through local/fault_proxy.py: 10 % of DynamoDB and Kinesis calls fail (throttling, 5xx,
connection resets, and writes whose reply is lost after moto applied them), and DynamoDB paused for 12 s.

Clients behave as the SDK does: a frame answered with a retryable `error` (or by API Gateway's
"Internal server error", i.e. an exception) is sent again with the same `client_msg_id` until acked.
Checked against moto directly (not through the proxy): every message acked and stored exactly once.
Its effects (the fan-out to the customer's other device, the `message_in` analytics event) are checked
to happen exactly once too. The other paths (webhooks, routing, outbound, analytics) have their own
modules here; the helpers they share are in faults_support.py.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from faults_support import message_events, record_summary, send_until_acked, stored_customer_messages
from support import customer_token

from local.fault_proxy import Rule

CUSTOMERS = [f"f{i:02d}" for i in range(10)]
PER_CUSTOMER = 5
FAULTS = ("throttle", "5xx", "reset", "lost_reply")


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
            acks[cmid] = send_until_acked(lam, api, f"{customer}-a", cmid, f"order {n} of {customer}")
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
    stored = stored_customer_messages(proxy, conversations)
    assert len(run["acks"]) == total and set(stored) == set(run["acks"]), "no message lost"
    assert max(stored.values()) == 1, f"stored twice: {[k for k, v in stored.items() if v > 1]}"
    seqs = [(a["conversation_id"], a["seq"]) for a in run["acks"].values()]
    assert len(set(seqs)) == total, "every message acked with its own seq"
    record_summary("message_path_stored_once", run["stats"], _ten_percent(), messages=total,
                   conversations=len(conversations), stored_twice=0, lost=0)


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
    events = message_events(proxy)
    no_event = [c for c, a in run["acks"].items() if events[a["message_id"]] == 0]
    twice = [c for c, a in run["acks"].items() if events[a["message_id"]] > 1]
    assert (missing, doubled, no_event, twice) == ([], [], [], []), (
        f"fan-out missing {len(missing)}, doubled {len(doubled)}; message_in missing {len(no_event)}, "
        f"doubled {len(twice)} of {len(run['acks'])} messages; faults {run['stats']['faults']}")
    record_summary("message_path_effects_once", run["stats"], _ten_percent(), messages=len(run["acks"]),
                   fan_outs=len(run["acks"]), message_in_events=len(run["acks"]))


def test_dynamodb_paused_twelve_seconds_messages_acked_after_and_stored_once(chat):
    lam, api, proxy = chat
    token = customer_token("paused")
    assert lam.connect("paused-a", token)["statusCode"] == 200
    assert lam.connect("paused-b", token)["statusCode"] == 200
    first = send_until_acked(lam, api, "paused-a", "p-0", "before the pause")
    proxy.pause("dynamodb", 12)  # longer than the client's 10 s read timeout
    started = time.monotonic()
    ack = send_until_acked(lam, api, "paused-a", "p-1", "during the pause", attempts=6)
    assert time.monotonic() - started >= 11, "the pause was in force"
    after = send_until_acked(lam, api, "paused-a", "p-2", "after the pause")
    stored = stored_customer_messages(proxy, {first["conversation_id"]})
    assert stored == Counter({"p-0": 1, "p-1": 1, "p-2": 1})
    assert ack["seq"] not in (first["seq"], after["seq"])


def test_dynamodb_paused_twelve_seconds_effects_happen_once(chat):
    lam, api, proxy = chat
    token = customer_token("paused")
    assert lam.connect("paused-a", token)["statusCode"] == 200
    assert lam.connect("paused-b", token)["statusCode"] == 200
    proxy.pause("dynamodb", 12)
    ack = send_until_acked(lam, api, "paused-a", "p-1", "during the pause", attempts=6)
    got = Counter(f["message"]["message_id"] for f in api.of_type("paused-b", "message"))
    assert got[ack["message_id"]] == 1, f"the other device got it {got[ack['message_id']]} times"
