"""Class 6 (issue 13): ids joined with `#` must not collide once they go into a key.

Customer `X` sending `k#m1` and customer `X#k` sending `m1` are two messages, not one message
and its duplicate; and the same holds for every key builder that takes an id from outside.
"""

from __future__ import annotations

import inspect
import itertools

import pytest
from support import customer_token

from chalicelib.store import keys


def test_client_msg_ids_with_separators_do_not_collide_across_customers(lam, management_api):
    lam.connect("x=", customer_token("X"))
    lam.connect("xk=", customer_token("X#k"))

    lam.send("x=", {"action": "sendMessage", "client_msg_id": "k#m1", "text": "from X"})
    lam.send("xk=", {"action": "sendMessage", "client_msg_id": "m1", "text": "from X#k"})

    [first] = management_api.of_type("x=", "ack")
    [second] = management_api.of_type("xk=", "ack")
    assert not second.get("duplicate"), "customer X#k's message was taken for customer X's"
    assert second["message_id"] != first["message_id"]
    assert second["conversation_id"] != first["conversation_id"]


def test_platform_identities_with_separators_do_not_collide(aws):
    from chalicelib import services as composition

    identities = composition.services().identity_store
    a, _ = identities.resolve("generic", "crm#1")
    b, created = identities.resolve("generic", "crm%231")
    assert created and a.customer_id != b.customer_id


# Not id key builders: one parses a key, the other picks a shard for an already built queue key
# (many entries share a shard by design; the entry's own key, queue_sk, ends in the escaped conversation id).
_NOT_ID_KEYS = {"seq_from_message_sk", "waiting_queue_pk"}

# Every key builder whose arguments are ids (strings), with the separator at each boundary.
_BUILDERS = [(name, fn) for name, fn in inspect.getmembers(keys, inspect.isfunction)
             if fn.__module__ == keys.__name__ and not name.startswith("_")
             and all(p.annotation in ("str", str) for p in inspect.signature(fn).parameters.values())
             and inspect.signature(fn).parameters and name not in _NOT_ID_KEYS]


@pytest.mark.parametrize(("name", "fn"), _BUILDERS, ids=[n for n, _ in _BUILDERS])
def test_every_id_key_builder_is_injective(name, fn):
    samples = ["X", "X#k", "k#m1", "m1", "k", "X%23k", "%", "#", ""]
    # owner_type selects a key family (customer | agent); it is a type, not an id
    domains = [("customer", "agent") if p == "owner_type" else samples for p in inspect.signature(fn).parameters]
    seen: dict[object, tuple[str, ...]] = {}
    for args in itertools.product(*domains):
        key = fn(*args)
        key = tuple(key) if isinstance(key, list) else key  # the keys of every shard
        assert seen.setdefault(key, args) == args, f"{name}{args} and {name}{seen[key]} give the same key {key!r}"


def test_ids_without_separators_keep_the_stored_key_format():
    assert keys.customer_pk("alice") == "CUST#alice"
    assert keys.dedup_pk(keys.dedup_scope("client", "alice"), "c1") == "DEDUP#client#alice#c1"
    assert keys.dedup_pk("wechat", "24000000000000001") == "DEDUP#wechat#24000000000000001"
    assert keys.dedup_pk("csat", ("ask", "conv_01J")) == "DEDUP#csat#ask#conv_01J"
    assert keys.identity_pk("wechat", "oFAKE-1_x") == "IDENTITY#wechat#oFAKE-1_x"
    assert keys.customer_conversations_gsi1("alice", 5, "conv_1") == ("CUST#alice", "CONV#0000000000005#conv_1")
    assert keys.connection_pk("L0SM9cOFvHcCIhw=") == "CONN#L0SM9cOFvHcCIhw="
    assert keys.queue_sk(3, 7, "conv_1") == "P6#0000000000007#conv_1"
    assert keys.agent_pk("agent-7") == "AGENT#agent-7"
