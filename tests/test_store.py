"""Access patterns of the single table, each served by a key condition (see docs/data-model.md)."""

from __future__ import annotations

import time

from chalicelib import ids
from chalicelib.core.models import DedupKey, MessageDraft, Sender
from chalicelib.store.connection_store import Connection, ConnectionStore
from chalicelib.store.conversation_store import ConversationStore
from chalicelib.store.table import Table


def _stores(aws):
    client = aws.client("dynamodb")
    import os

    table = Table(client, os.environ["TABLE_NAME"])
    return ConversationStore(table), ConnectionStore(table, 7800)


def _draft(text: str) -> MessageDraft:
    return MessageDraft(sender=Sender(type="customer", id="alice"), channel="app", text=text)


def test_one_open_conversation_per_customer(aws):
    store, _ = _stores(aws)
    first, created = store.open_conversation("alice", "app")
    again, created_again = store.open_conversation("alice", "wechat")
    assert created and not created_again and again == first

    assert store.close_conversation(first, "alice", "resolved") is True
    assert store.close_conversation(first, "alice", "resolved") is False
    second, created = store.open_conversation("alice", "app")
    assert created and second != first
    assert store.get_conversation(first).status == "closed"


def test_customer_conversations_listed_newest_first(aws):
    store, _ = _stores(aws)
    ids_in_order = []
    for _ in range(3):
        conversation_id, _created = store.open_conversation("alice", "app")
        ids_in_order.append(conversation_id)
        store.close_conversation(conversation_id, "alice", "done")
        time.sleep(0.002)
    store.open_conversation("bob", "app")
    listed = [c.conversation_id for c in store.list_customer_conversations("alice")]
    assert listed == list(reversed(ids_in_order))


def test_append_assigns_increasing_seq_and_dedups(aws):
    store, _ = _stores(aws)
    conversation_id, _ = store.open_conversation("alice", "app")
    a = store.append_message(conversation_id, _draft("a"), DedupKey("client#alice", "k1"))
    b = store.append_message(conversation_id, _draft("b"), DedupKey("client#alice", "k2"))
    again = store.append_message(conversation_id, _draft("a"), DedupKey("client#alice", "k1"))

    assert (a.message.seq, b.message.seq) == (1, 2)
    assert again.duplicate and again.message.message_id == a.message.message_id
    page, has_more = store.list_messages(conversation_id, after_seq=0)
    assert [m.text for m in page] == ["a", "b"] and not has_more


def test_dedup_scopes_do_not_collide(aws):
    store, _ = _stores(aws)
    conversation_id, _ = store.open_conversation("alice", "app")
    one = store.append_message(conversation_id, _draft("x"), DedupKey("client#alice", "same"))
    other = store.append_message(conversation_id, _draft("y"), DedupKey("wechat", "same"))
    assert not other.duplicate and other.message.message_id != one.message.message_id


def test_connections_found_per_owner_and_per_conversation(aws):
    store, connections = _stores(aws)
    conversation_id, _ = store.open_conversation("alice", "app")
    now = ids.now_ms()
    for cid, owner, conv in [("a1=", "alice", conversation_id), ("a2=", "alice", None), ("b1=", "bob", None)]:
        connections.put(Connection(connection_id=cid, owner_type="customer", owner_id=owner, endpoint="http://x",
                                   connected_ms=now, conversation_id=conv))
    connections.put(Connection(connection_id="g1=", owner_type="agent", owner_id="agent7", endpoint="http://x",
                               connected_ms=now))

    assert sorted(c.connection_id for c in connections.for_owner("customer", "alice")) == ["a1=", "a2="]
    assert [c.connection_id for c in connections.for_owner("agent", "agent7")] == ["g1="]
    assert [c.connection_id for c in connections.for_conversation(conversation_id)] == ["a1="]
    assert connections.attach("a2=", conversation_id) is True
    assert connections.attach("missing=", conversation_id) is False
    assert sorted(c.connection_id for c in connections.for_conversation(conversation_id)) == ["a1=", "a2="]


def test_expired_connection_is_treated_as_gone_before_ttl_deletion(aws):
    _, connections = _stores(aws)
    three_hours_ago = ids.now_ms() - 3 * 3600 * 1000
    connections.put(Connection(connection_id="old=", owner_type="customer", owner_id="alice", endpoint="http://x",
                               connected_ms=three_hours_ago))
    assert connections.get("old=") is None
    assert connections.for_owner("customer", "alice") == []


def test_ttl_is_enabled_on_the_table(aws):
    import os

    description = aws.client("dynamodb").describe_time_to_live(TableName=os.environ["TABLE_NAME"])
    assert description["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_a_message_updates_the_counter_item_and_never_the_indexed_meta(aws):
    """META is in two indexes (gsi1 CUST#id, gsi2 IDLE#bucket): a message must not rewrite it (issue 13)."""
    import os

    from chalicelib.store import keys

    store, _ = _stores(aws)
    client = aws.client("dynamodb")
    conversation_id, _ = store.open_conversation("alice", "app")

    def item(sk: str) -> dict:
        key = {"pk": {"S": keys.conversation_pk(conversation_id)}, "sk": {"S": sk}}
        return client.get_item(TableName=os.environ["TABLE_NAME"], Key=key, ConsistentRead=True).get("Item", {})

    meta = item(keys.META_SK)
    for n in range(3):
        store.append_message(conversation_id, _draft(f"m{n}"))
    assert item(keys.META_SK) == meta
    counter = item(keys.SEQ_SK)
    assert counter["last_seq"] == {"N": "3"} and "gsi1pk" not in counter and "gsi2pk" not in counter
    assert store.last_activity_ms(conversation_id) == int(counter["last_message_ms"]["N"])


def test_closed_and_unknown_conversations_refuse_messages(aws):
    import pytest

    from chalicelib.core.models import ConversationClosed

    store, _ = _stores(aws)
    conversation_id, _ = store.open_conversation("alice", "app")
    store.append_message(conversation_id, _draft("a"))
    store.close_conversation(conversation_id, "alice", "resolved")
    with pytest.raises(ConversationClosed):
        store.append_message(conversation_id, _draft("late"))
    with pytest.raises(ConversationClosed):
        store.append_message("conv_unknown", _draft("nobody"))
    assert store.last_activity_ms("conv_unknown") is None


def test_a_conversation_stored_before_the_counter_item_continues_its_seq(aws):
    """Conversations opened by an earlier release keep their count on META: the first message starts the
    counter item from it."""
    import os

    from chalicelib.store import keys

    store, _ = _stores(aws)
    client = aws.client("dynamodb")
    conversation_id, _ = store.open_conversation("alice", "app")
    pk = {"S": keys.conversation_pk(conversation_id)}
    client.delete_item(TableName=os.environ["TABLE_NAME"], Key={"pk": pk, "sk": {"S": keys.SEQ_SK}})
    client.update_item(TableName=os.environ["TABLE_NAME"], Key={"pk": pk, "sk": {"S": keys.META_SK}},
                       UpdateExpression="SET last_seq = :n", ExpressionAttributeValues={":n": {"N": "7"}})

    assert store.append_message(conversation_id, _draft("after the upgrade")).message.seq == 8
    assert store.append_message(conversation_id, _draft("and on")).message.seq == 9
