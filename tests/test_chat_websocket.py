"""The WebSocket contract, exercised through the app's handlers with events/ samples and moto."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support import CUSTOMER_SECRET, customer_token

from chalicelib import services as composition


def _stored_messages(table, conversation_id: str) -> list[dict]:
    items = table.query(KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
                        ExpressionAttributeValues={":pk": f"CONV#{conversation_id}", ":m": "MSG#"})["Items"]
    return items


def _from_customers(items: list[dict]) -> list[dict]:
    """Customers' messages only (stored items or `message` frames): the bot answers each conversation too."""
    return [i for i in items if (i.get("message", i))["sender"]["type"] == "customer"]


def _connection_item(table, connection_id: str):
    return table.get_item(Key={"pk": f"CONN#{connection_id}", "sk": "CONN"}).get("Item")


# -- connect -----------------------------------------------------------------------------------


def test_connect_with_valid_token_registers_connection_with_ttl(lam, table):
    response = lam.connect("A1=", customer_token("alice", name="Alice", vip=True))

    assert response["statusCode"] == 200
    item = _connection_item(table, "A1=")
    assert item["owner_id"] == "alice" and item["vip"] is True
    assert int(item["expires_at"]) > time.time() + 2 * 3600
    assert item["endpoint"].startswith("http://127.0.0.1")


@pytest.mark.parametrize(("token", "status"), [
    (None, 401),
    ("not-a-jwt", 403),
    (customer_token("alice", secret="someone-elses-secret-0123456789abc"), 403),
    (customer_token("alice", ttl=-3600), 403),
])
def test_connect_refused_for_missing_forged_or_expired_token_stores_nothing(lam, table, token, status):
    response = lam.connect("X1=", token)

    assert response["statusCode"] == status
    assert json.loads(response["body"])["code"].startswith("token_")
    assert _connection_item(table, "X1=") is None
    assert table.scan()["Count"] == 0  # scan only in tests: proves nothing at all was written


def test_connect_without_exp_claim_is_refused(lam, table):
    import jwt

    token = jwt.encode({"sub": "alice"}, CUSTOMER_SECRET, algorithm="HS256")
    assert lam.connect("X2=", token)["statusCode"] == 403


# -- sendMessage ---------------------------------------------------------------------------------


def test_send_acks_sender_and_fans_out_to_other_devices_only(lam, management_api, table):
    token = customer_token("alice")
    lam.connect("phone=", token)
    lam.connect("tablet=", token)
    lam.connect("bob=", customer_token("bob"))

    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "c1", "text": "hi"})

    [ack] = management_api.of_type("phone=", "ack")
    assert ack["client_msg_id"] == "c1" and ack["seq"] == 1 and ack["message_id"].startswith("msg_")
    assert _from_customers(management_api.of_type("phone=", "message")) == []
    [fanned] = _from_customers(management_api.of_type("tablet=", "message"))
    assert fanned["message"]["message_id"] == ack["message_id"] and fanned["message"]["text"] == "hi"
    assert management_api.frames["bob="] == []
    [stored] = _from_customers(_stored_messages(table, ack["conversation_id"]))
    assert stored["sender"] == {"type": "customer", "id": "alice"} and stored["channel"] == "app"


def test_resent_client_msg_id_is_acked_with_same_message_id_and_stored_once(lam, management_api, table):
    lam.connect("phone=", customer_token("alice"))
    frame = {"action": "sendMessage", "client_msg_id": "same", "text": "once"}

    lam.send("phone=", frame)
    lam.send("phone=", frame)

    first, second = management_api.of_type("phone=", "ack")
    assert first["message_id"] == second["message_id"] and first["seq"] == second["seq"]
    assert second["duplicate"] is True
    assert len(_from_customers(_stored_messages(table, first["conversation_id"]))) == 1


def test_seq_increases_per_conversation_under_concurrent_senders(lam_server, management_api):
    lam = lam_server
    token = customer_token("alice")
    for device in range(4):
        lam.connect(f"d{device}=", token)
    lam.send("d0=", {"action": "sendMessage", "client_msg_id": "first", "text": "open"})

    def send(i: int) -> None:
        lam.send(f"d{i % 4}=", {"action": "sendMessage", "client_msg_id": f"m{i}", "text": f"n{i}"})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(20)))

    seqs = sorted(a["seq"] for d in range(4) for a in management_api.of_type(f"d{d}=", "ack"))
    assert len(set(seqs)) == 21
    # every stored message (the bot's answers included) has its own seq, with no gap
    conversation_id = management_api.of_type("d0=", "ack")[0]["conversation_id"]
    stored, _ = composition.services().conversation_store.list_messages(conversation_id, after_seq=0, limit=100)
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1)) and set(seqs) <= {m.seq for m in stored}


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "code"), [
    ("{not json", "invalid_json"),
    ("[1, 2]", "invalid_json"),
    (json.dumps({"text": "no action"}), "missing_field"),
    (json.dumps({"action": "dance"}), "unknown_action"),
    (json.dumps({"action": "sendMessage", "text": "hi"}), "missing_field"),
    (json.dumps({"action": "sendMessage", "client_msg_id": "c9", "text": ""}), "empty_field"),
    (json.dumps({"action": "sendMessage", "client_msg_id": "c9", "text": "   "}), "empty_field"),
    (json.dumps({"action": "sendMessage", "client_msg_id": "", "text": "x"}), "empty_field"),
    (json.dumps({"action": "sendMessage", "client_msg_id": "c9", "text": "x" * 4001}), "text_too_long"),
    (json.dumps({"action": "sendMessage", "client_msg_id": "c9", "text": 42}), "invalid_frame"),
    (json.dumps({"action": "history", "after_seq": -1}), "invalid_frame"),
])
def test_bad_frames_get_error_frame_and_leave_socket_and_store_intact(lam, management_api, table, body, code):
    lam.connect("phone=", customer_token("alice"))
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "ok1", "text": "before"})
    [ack] = management_api.of_type("phone=", "ack")

    lam.send("phone=", body)

    [error] = management_api.of_type("phone=", "error")
    assert error["code"] == code and error["message"]
    sent_id = json.loads(body).get("client_msg_id") if body.startswith("{\"") else None
    assert error.get("client_msg_id") == (sent_id or None)
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "ok2", "text": "after"})
    first, second = management_api.of_type("phone=", "ack")
    stored = _stored_messages(table, ack["conversation_id"])
    # no seq was used up by the bad frame (the bot's answers take seqs of their own)
    assert first["seq"] == 1 and [int(m["seq"]) for m in stored] == list(range(1, len(stored) + 1))
    assert second["seq"] > first["seq"]
    texts = [m["text"] for m in _from_customers(stored)]
    assert texts == ["before", "after"]
    assert _connection_item(table, "phone=") is not None


def test_text_of_exactly_4000_characters_is_accepted(lam, management_api):
    lam.connect("phone=", customer_token("alice"))
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "long", "text": "字" * 4000})
    assert management_api.of_type("phone=", "ack")


def test_frame_from_unregistered_connection_gets_not_connected_error(lam, management_api):
    lam.send("ghost=", {"action": "ping"})
    assert management_api.frames["ghost="][0]["code"] == "not_connected"


# -- history -------------------------------------------------------------------------------------


def _send_many(lam, connection_id: str, n: int) -> None:
    for i in range(1, n + 1):
        lam.send(connection_id, {"action": "sendMessage", "client_msg_id": f"h{i}", "text": f"m{i}"})


def test_history_resyncs_after_seq_and_pages_back_before_seq(lam, management_api):
    lam.connect("phone=", customer_token("alice"))
    _send_many(lam, "phone=", 7)

    lam.send("phone=", {"action": "history", "after_seq": 4})
    lam.send("phone=", {"action": "history", "before_seq": 6, "limit": 2})
    lam.send("phone=", {"action": "history", "before_seq": 4, "limit": 5})
    lam.send("phone=", {"action": "history", "limit": 3})

    after, back, oldest, latest = management_api.of_type("phone=", "history")
    n = max(m["seq"] for m in after["messages"])  # 7 messages plus the bot's answers, seqs 1..n
    assert [m["seq"] for m in after["messages"]] == list(range(5, n + 1)) and after["has_more"] is False
    assert [m["seq"] for m in back["messages"]] == [4, 5] and back["has_more"] is True
    assert [m["seq"] for m in oldest["messages"]] == [1, 2, 3] and oldest["has_more"] is False
    assert [m["seq"] for m in latest["messages"]] == [n - 2, n - 1, n] and latest["has_more"] is True


def test_history_of_another_customers_conversation_is_forbidden(lam, management_api):
    lam.connect("bob=", customer_token("bob"))
    lam.send("bob=", {"action": "sendMessage", "client_msg_id": "b1", "text": "secret"})
    bobs_conversation = management_api.of_type("bob=", "ack")[0]["conversation_id"]
    lam.connect("eve=", customer_token("eve"))

    lam.send("eve=", {"action": "history", "conversation_id": bobs_conversation})
    lam.send("eve=", {"action": "history", "conversation_id": "conv_does_not_exist"})

    errors = management_api.of_type("eve=", "error")
    assert [e["code"] for e in errors] == ["forbidden", "forbidden"]
    assert not management_api.of_type("eve=", "history")


def test_history_with_no_conversation_yet_is_empty(lam, management_api):
    lam.connect("new=", customer_token("newcomer"))
    lam.send("new=", {"action": "history", "after_seq": 0})
    [page] = management_api.of_type("new=", "history")
    assert page == {"type": "history", "conversation_id": None, "messages": [], "has_more": False}


# -- stale connections and lifecycle -----------------------------------------------------------------


def test_gone_connection_is_deleted_without_disturbing_sender_or_other_devices(lam, management_api, table):
    token = customer_token("alice")
    for device in ("phone=", "stale=", "laptop="):
        lam.connect(device, token)
    _connected_ago(table, "stale=", 60)
    management_api.gone.add("stale=")

    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "g1", "text": "anyone?"})

    assert management_api.of_type("phone=", "ack")
    assert management_api.of_type("laptop=", "message")
    assert _connection_item(table, "stale=") is None
    assert _connection_item(table, "phone=") is not None


def test_a_connection_still_in_its_handshake_is_kept_when_api_gateway_answers_410(lam, management_api, table):
    # API Gateway refuses pushes (410) until $connect has returned; the item was written during $connect
    token = customer_token("alice")
    for device in ("phone=", "joining="):
        lam.connect(device, token)
    management_api.gone.add("joining=")

    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "h1", "text": "hello?"})

    assert management_api.of_type("phone=", "ack")
    assert _connection_item(table, "joining=") is not None  # still attached: later frames reach it
    management_api.gone.discard("joining=")
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "h2", "text": "still there?"})
    assert [m["message"]["text"] for m in management_api.of_type("joining=", "message")] == ["still there?"]


def _connected_ago(table, connection_id: str, seconds: int) -> None:
    table.update_item(Key={"pk": f"CONN#{connection_id}", "sk": "CONN"}, UpdateExpression="SET connected_ms = :t",
                      ExpressionAttributeValues={":t": int(time.time() * 1000) - seconds * 1000})


def test_disconnect_removes_connection(lam, table):
    lam.connect("phone=", customer_token("alice"))
    lam.disconnect("phone=")
    assert _connection_item(table, "phone=") is None


def test_new_conversation_starts_after_previous_is_closed(lam, management_api):
    token = customer_token("alice")
    lam.connect("phone=", token)
    lam.connect("tablet=", token)
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "x1", "text": "first"})
    first = management_api.of_type("phone=", "ack")[0]

    assert composition.services().conversations.close(first["conversation_id"], reason="resolved") is True
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "x2", "text": "again"})

    second = management_api.of_type("phone=", "ack")[1]
    assert second["conversation_id"] != first["conversation_id"] and second["seq"] == 1
    assert _from_customers(management_api.of_type("tablet=", "message"))[-1]["message"]["text"] == "again"
    # the resent first message is still recognised after the close
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "x1", "text": "first"})
    third = management_api.of_type("phone=", "ack")[2]
    assert third["message_id"] == first["message_id"] and third["duplicate"] is True


def test_ping_answers_pong(lam, management_api):
    lam.connect("phone=", customer_token("alice"))
    lam.send("phone=", {"action": "ping"})
    assert management_api.frames["phone="] == [{"type": "pong"}]


# -- outages (issue 13, class 8) ----------------------------------------------------------------


def test_an_outage_answers_a_typed_retryable_error_with_the_client_msg_id(lam, management_api, table, monkeypatch):
    """DynamoDB throttles the message's first write: the client is told to retry, and the retry works."""
    from botocore.exceptions import ClientError

    from chalicelib.store.table import Table

    assert lam.connect("phone=", customer_token("olga"))["statusCode"] == 200
    healthy = Table.update_item

    def throttled(self: Table, **kwargs: object) -> dict:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "UpdateItem")

    monkeypatch.setattr(Table, "update_item", throttled)
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "m1", "text": "hello"})
    [error] = management_api.of_type("phone=", "error")
    assert error["code"] == "unavailable" and error["retryable"] is True and error["client_msg_id"] == "m1"
    assert management_api.of_type("phone=", "ack") == []

    monkeypatch.setattr(Table, "update_item", healthy)
    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "m1", "text": "hello"})
    [ack] = management_api.of_type("phone=", "ack")
    assert ack["client_msg_id"] == "m1" and not ack.get("duplicate")
    assert len(_from_customers(_stored_messages(table, ack["conversation_id"]))) == 1
