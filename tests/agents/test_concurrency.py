"""50 escalations, 5 agents of capacity 3, redeliveries and concurrent invocations (moto server,
DynamoDB serialised as in AWS): never assigned twice, never over capacity, everyone served."""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from desk import Desk

AGENTS = [f"a{i}" for i in range(5)]
CUSTOMERS = [f"c{i:02d}" for i in range(50)]


@pytest.fixture
def server_desk(lam_server, management_api, aws_server, monkeypatch):
    monkeypatch.setenv("BOT_ENABLED", "false")
    from chalicelib import services as composition

    composition.reset()
    d = Desk(lam_server, management_api, aws_server)
    yield d
    d.close()


def _offers(desk: Desk) -> Counter:
    return Counter(o["conversation_id"] for a in AGENTS for o in desk.frames(f"ag-{a}", "offer"))


def _loads(desk: Desk) -> dict[str, int]:
    status, agents = desk.rest("GET", "/supervisor/agents", desk.admin)
    assert status == 200
    return {a["agent_id"]: a["load"] for a in agents}


def test_fifty_escalations_five_agents_with_redeliveries(server_desk: Desk):
    desk = server_desk
    # Offers expire by the wall clock: under load 20 this test took 480 s from the first offer, near the
    # old 600 s; the longest allowed timeout keeps expiry (tested elsewhere) out of this test (issue 13).
    desk.config(csat_enabled=False, offer_timeout_seconds=3600)
    for agent in AGENTS:
        desk.connect_agent(agent, desk.agent(agent, capacity=3))
    conversations = {}
    for customer in CUSTOMERS:
        conn = desk.connect_customer(customer, vip=customer in ("c40", "c41"))
        conversations[desk.say(conn, "help", f"{customer}-1")["conversation_id"]] = customer
        desk.lam.send(conn, {"action": "requestHuman", "client_msg_id": "h"})

    # every SQS record delivered twice, in shuffled batches, by 8 concurrent "Lambda instances"
    # collected by message id until all 50 are in, within a deadline (a redelivered receive is not a new one)
    received: dict[str, dict] = {}
    deadline = time.monotonic() + 120
    while len(received) < 50:
        assert time.monotonic() < deadline, f"only {len(received)} of 50 escalations reached the queue"
        got = desk.sqs.receive_message(QueueUrl=desk.queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        received.update({m["MessageId"]: desk.record(m["Body"], m["MessageId"]) for m in got})
    records = list(received.values())
    deliveries = records * 2
    random.Random(7).shuffle(deliveries)
    batches = [deliveries[i : i + 10] for i in range(0, len(deliveries), 10)]
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda batch: desk.app.route_escalations({"Records": batch}, None), batches))
    routing_seconds = time.perf_counter() - started
    assert all(r["batchItemFailures"] == [] for r in results)

    offers = _offers(desk)
    assert len(offers) == 15 and max(offers.values()) == 1, offers
    assert all(load <= 3 for load in _loads(desk).values())
    _status, queue = desk.rest("GET", "/supervisor/queue", desk.admin)
    assert len(queue) == 35
    vip_positions = [q["position"] for q in queue if q["customer_id"] in ("c40", "c41")]
    assert all(p <= 2 for p in vip_positions) or not vip_positions  # VIPs jump the line (unless already served)
    waiting = [q["customer_id"] for q in queue]
    assert all(desk.frames(f"cu-{c}", "queue") for c in waiting), "every waiting customer is told a position"

    # agents accept and resolve concurrently; freed slots serve the queue until everyone is served
    served: Counter = Counter()
    max_load = 0
    rounds = 0
    while sum(served.values()) < 50 and rounds < 30:
        rounds += 1

        def work(agent: str) -> list[str]:
            conn = f"ag-{agent}"
            done = []
            for offer in desk.frames(conn, "offer"):
                conversation = offer["conversation_id"]
                if conversation in served:
                    continue
                desk.lam.send(conn, {"action": "accept", "conversation_id": conversation})
                desk.lam.send(conn, {"action": "resolve", "conversation_id": conversation})
                done.append(conversation)
            return done

        with ThreadPoolExecutor(5) as pool:
            for done in pool.map(work, AGENTS):
                served.update(done)
        max_load = max(max_load, *_loads(desk).values())
    total_seconds = time.perf_counter() - started

    assert set(served) == set(conversations) and max(served.values()) == 1
    assert max(_offers(desk).values()) == 1, "no conversation was offered twice"
    assert max_load <= 3 and all(load == 0 for load in _loads(desk).values())
    errors = [e for a in AGENTS for e in desk.frames(f"ag-{a}", "error")]
    assert errors == []
    # positions were told and then updated as the queue moved (a later customer saw it shrink)
    last = desk.frames(f"cu-{waiting[-1]}", "queue")
    assert len(last) >= 2 and last[-1]["position"] < last[0]["position"]
    print(f"\nconcurrency: 100 deliveries routed in {routing_seconds:.2f}s "
          f"({100 / routing_seconds:.0f}/s); 50 conversations served in {total_seconds:.2f}s, {rounds} rounds")
