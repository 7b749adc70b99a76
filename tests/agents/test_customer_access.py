"""Class 5 (issue 13): who may read a customer, on every /customers route, and the access audit.

The documented rule: an agent sees the customers whose conversations are offered or assigned to
them; supervisors and admins see all; an agent id that was never registered sees nothing. Every
read, allowed or not, is recorded in an access audit that supervisors (not agents) can query.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from support import agent_token

ROUTES = ("/customers/{id}", "/customers/{id}/timeline")


def _escalated(desk, customer: str) -> str:
    conn = desk.connect_customer(customer, name=customer.title())
    ack = desk.say(conn, "I need help", f"{customer}-1")
    desk.lam.send(conn, {"action": "requestHuman", "client_msg_id": "h1", "language": "en"})
    return ack["conversation_id"]


@pytest.fixture
def offered(desk):
    """alice's conversation is offered to agent `gen`; bob's waits in the queue (offered to nobody)."""
    desk.connect_agent("gen", desk.agent("gen", capacity=1))
    desk.agent("idle")
    _escalated(desk, "alice")
    assert desk.drain()["batchItemFailures"] == []
    _escalated(desk, "bob")
    desk.drain()
    assert [o["customer"]["customer_id"] for o in desk.frames("ag-gen", "offer")] == ["alice"]
    return desk


@pytest.mark.parametrize("route", ROUTES)
def test_an_agent_reads_only_customers_offered_or_assigned_to_them(offered, route):
    gen = agent_token("gen")
    assert offered.rest("GET", route.format(id="alice"), gen)[0] == 200
    status, body = offered.rest("GET", route.format(id="bob"), gen)
    assert status == 403 and body["code"] == "forbidden"
    # not yours and does not exist answer alike, so customer ids cannot be probed
    assert offered.rest("GET", route.format(id="nobody-at-all"), gen) == (status, body)
    assert offered.rest("GET", route.format(id="alice"), agent_token("idle"))[0] == 403


@pytest.mark.parametrize("route", ROUTES)
def test_an_unregistered_agent_id_sees_nothing(offered, route):
    status, body = offered.rest("GET", route.format(id="alice"), agent_token("never-registered"))
    assert status == 403 and body["code"] == "agent_not_registered"


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_every_customer(offered, role):
    token = agent_token(f"{role}-1", role)
    for route in ROUTES:
        assert offered.rest("GET", route.format(id="bob"), token)[0] == 200
    assert offered.rest("GET", "/customers/nobody-at-all", token)[0] == 404


def test_lookup_follows_the_same_rule(offered, social_identity):
    gen, sup = agent_token("gen"), agent_token("sup-1", "supervisor")
    path = "/customers/lookup?" + urlencode({"channel": "generic", "external_id": social_identity})
    assert offered.rest("GET", path, gen)[0] == 403
    assert offered.rest("GET", path, sup)[0] == 200
    unknown = "/customers/lookup?" + urlencode({"channel": "generic", "external_id": "no-such-user"})
    assert offered.rest("GET", unknown, gen)[0] == 403  # an agent cannot probe identities either
    assert offered.rest("GET", unknown, sup)[0] == 404


def test_an_accepted_conversation_keeps_its_customer_visible(offered):
    conversation = offered.frames("ag-gen", "offer")[0]["conversation_id"]
    offered.lam.send("ag-gen", {"action": "accept", "conversation_id": conversation})
    assert offered.frames("ag-gen", "assigned")
    assert offered.rest("GET", "/customers/alice/timeline", agent_token("gen"))[0] == 200


def test_every_read_is_in_the_access_audit_that_supervisors_query(offered):
    gen, sup = agent_token("gen"), agent_token("sup-1", "supervisor")
    offered.rest("GET", "/customers/alice", gen)
    offered.rest("GET", "/customers/bob/timeline", gen)
    offered.rest("GET", "/customers/bob", agent_token("never-registered"))
    offered.rest("GET", "/customers/bob", sup)

    status, log = offered.rest("GET", "/customers/bob/access-log", sup)
    assert status == 200
    assert [(e["actor_id"], e["action"], e["outcome"]) for e in log["entries"]] == [
        ("sup-1", "profile", "allowed"),
        ("never-registered", "profile", "denied"),
        ("gen", "timeline", "denied"),
    ]
    assert all(e["customer_id"] == "bob" and e["at_ms"] > 0 for e in log["entries"])
    status, by_agent = offered.rest("GET", "/access-log?" + urlencode({"agent_id": "gen"}), sup)
    assert status == 200
    assert [(e["customer_id"], e["action"], e["outcome"]) for e in by_agent["entries"]] == [
        ("bob", "timeline", "denied"), ("alice", "profile", "allowed")]
    # agents cannot read the audit
    assert offered.rest("GET", "/customers/alice/access-log", gen)[0] == 403
    assert offered.rest("GET", "/access-log?agent_id=gen", gen)[0] == 403


@pytest.fixture
def social_identity(offered, aws):
    """A customer who wrote through the generic webhook (not offered to anyone)."""
    from chalicelib import services as composition

    identity, _ = composition.services().identity_store.resolve("generic", "crm-77", profile_name="Carol")
    return identity.external_id
