"""Actions end to end: a Chinese customer asks for an order's status over WebSocket and gets the shop's answer.

The tiny KB's model is published; its `track_order` entry is bound (through the KB REST API) to the
order-status action of the local shop API (`local/shop_api.py`, started here on a free port). The
agents' context frame carries the customer's recent orders once an `orders` action is configured.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kbdata import TINY_KB
from support import ROOT, agent_token, customer_token

from chalicelib import services as composition
from chalicelib.bot.training import ModelPointer, model_key
from local.shop_api import ShopApi

ADMIN = agent_token("ada", "admin")
ORDER_STATUS = {
    "name": "order_status", "url": "{SHOP_API_URL}/actions/order-status", "secret": "SHOP_API_SECRET",
    "slots": ["order_number"], "order_number_pattern": r"NW\d{5,8}",
    "templates": {"zh": "订单 {order_number} 当前状态：{status}。承运商：{carrier}，预计送达：{eta}。",
                  "en": "Order {order_number} is {status}. Carrier: {carrier}, estimated delivery: {eta}."},
}
ORDERS = {"name": "orders", "url": "{SHOP_API_URL}/actions/orders", "secret": "SHOP_API_SECRET",
          "templates": {"zh": "您最近共有 {count} 个订单。", "en": "You have {count} recent orders."}}


@pytest.fixture
def shop(aws: Any, monkeypatch: pytest.MonkeyPatch):
    api = ShopApi("test-shop-secret-000001").start()
    for name, value in api.config().items():
        monkeypatch.setenv(name, value)
    yield api
    api.stop()


@pytest.fixture
def client(app_module: Any):
    from chalice.test import Client

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as c:
        yield c


def _put(client: Any, name: str, body: dict[str, Any]) -> Any:
    return client.http.put(f"/kb/intents/{name}", body=json.dumps(body),
                           headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN}"})


@pytest.fixture
def bound(aws: Any, kb_model, shop, client) -> Any:
    """The tiny KB's model live, and `track_order` answered by the shop's order-status action."""
    registry = composition.services().model_registry
    registry.publish(kb_model[1], ModelPointer(version=1, s3_key=model_key(1), trained_ms=1))
    response = _put(client, "track_order", {**TINY_KB["intents"]["track_order"], "action": ORDER_STATUS})
    assert response.status_code == 200, response.body
    return shop


def _bot_texts(management_api: Any, connection_id: str) -> list[str]:
    return [f["message"]["text"] for f in management_api.of_type(connection_id, "message")
            if f["message"]["sender"]["type"] == "bot"]


def _say(lam: Any, connection_id: str, text: str, n: list[int] = [0]) -> None:  # noqa: B006 - a counter
    n[0] += 1
    lam.send(connection_id, {"action": "sendMessage", "client_msg_id": f"act{n[0]}", "text": text})


def test_chinese_customer_gets_the_real_order_status_in_chinese(lam, management_api, table, bound):
    lam.connect("alice=", customer_token("alice"))
    _say(lam, "alice=", "我的订单 NW10001 到哪了")
    eta = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert _bot_texts(management_api, "alice=") == [
        f"订单 NW10001 当前状态：已发货，运输中。承运商：顺丰速运，预计送达：{eta}。"]
    [request] = bound.requests
    assert request["body"]["customer"]["id"] == "alice" and request["body"]["customer"]["channel"] == "app"
    conversation_id = management_api.of_type("alice=", "ack")[0]["conversation_id"]
    items = table.query(KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
                        ExpressionAttributeValues={":pk": f"CONV#{conversation_id}", ":m": "MSG#"})["Items"]
    [bot] = [i for i in items if i["sender"]["type"] == "bot"]
    assert bot["meta"]["action"] == "answer" and bot["meta"]["reason"] == "action_ok"
    assert bot["meta"]["bot_action"]["name"] == "order_status" and "NW10001" not in json.dumps(bot["meta"], default=str)


def test_the_order_number_is_asked_for_then_answered_and_other_peoples_orders_are_not_found(
        lam, management_api, bound):
    lam.connect("alice=", customer_token("alice"))
    _say(lam, "alice=", "我的快递到哪了")
    _say(lam, "alice=", "NW10002")
    _say(lam, "alice=", "那订单 NW10003 呢？到哪了")  # bob's order
    asked, answered, other = _bot_texts(management_api, "alice=")
    assert asked == "请告诉我您的订单号，我帮您查询。"
    assert answered.startswith("订单 NW10002 当前状态：已签收。承运商：京东物流")
    assert other.startswith("抱歉，没有查到与您账号关联的相关记录")


def test_shop_api_down_gives_a_polite_chinese_fallback(lam, management_api, bound, monkeypatch):
    bound.stop()  # nothing listens any more: connection refused, retried, then the fallback
    lam.connect("alice=", customer_token("alice"))
    _say(lam, "alice=", "我的订单 NW10001 到哪了")
    assert _bot_texts(management_api, "alice=") == [
        "抱歉，暂时查询不到相关信息，请稍后再试。如需人工服务，请回复“转人工”。"]
    [frame] = [f for f in management_api.of_type("alice=", "message") if f["message"]["sender"]["type"] == "bot"]
    assert frame["message"]["meta"]["quick_replies"] == [{"title": "转人工", "payload": "转人工"}]


def test_agents_context_frame_has_the_customers_recent_orders(lam, management_api, bound, client):
    from chalicelib.agents.workspace import Principal

    lam.connect("alice=", customer_token("alice"))
    _say(lam, "alice=", "我的订单 NW10001 到哪了")
    conversation_id = management_api.of_type("alice=", "ack")[0]["conversation_id"]
    supervisor = Principal(kind="agent", id="sam", role="supervisor")
    assert "orders" not in composition.services().workspace.context(supervisor, conversation_id)

    my_orders = {"examples": ["我最近的订单", "show my orders"], "answers": {"zh": "见我的订单。"}, "action": ORDERS}
    assert _put(client, "my_orders", my_orders).status_code == 200
    context = composition.services().workspace.context(supervisor, conversation_id)
    assert [o["order_number"] for o in context["orders"]["orders"]] == ["NW10001", "NW10002"]
    assert context["orders"]["orders"][0]["status"] == "已发货，运输中"  # the conversation's language


# -- defined with the intent: REST, JSON and CSV import, validated on save ---------------------------------


def test_kb_rest_refuses_an_invalid_action_with_a_structured_400(client, aws):
    bad = {**TINY_KB["intents"]["track_order"], "action": {**ORDER_STATUS, "url": "http://shop.example.com/x"}}
    response = _put(client, "track_order", bad)
    assert response.status_code == 400
    assert "https://" in json.dumps(response.json_body)


def test_actions_travel_through_csv_import_and_export(client, aws):
    examples = "text,label\n我的订单到哪了,order_status\nwhere is my order,order_status\n"
    answers = ("intent,answer_zh,answer_en,action\n"
               f"order_status,见我的订单,See My orders,\"{json.dumps(ORDER_STATUS).replace(chr(34), chr(34) * 2)}\"\n")
    response = client.http.post("/kb/import/csv", body=json.dumps({"examples_csv": examples, "answers_csv": answers}),
                                headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 200, response.body
    stored = client.http.get("/kb/intents/order_status", headers={"Authorization": f"Bearer {ADMIN}"}).json_body
    assert stored["action"]["name"] == "order_status" and stored["action"]["timeout_seconds"] == 2
    exported = client.http.get("/kb/export?format=answers_csv", headers={"Authorization": f"Bearer {ADMIN}"})
    header, row = exported.body.decode().splitlines()
    assert header.endswith(",enabled,action") and "{SHOP_API_URL}/actions/order-status" in row

    broken = answers.replace("order-status", "order-status").replace('""slots""', '""slotz""')
    response = client.http.post("/kb/import/csv", body=json.dumps({"examples_csv": examples, "answers_csv": broken}),
                                headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 400 and response.json_body["code"] == "invalid_kb"


def test_the_sample_kb_binds_order_logistics_refund_and_orders_actions():
    from chalicelib.bot import kb_io
    from chalicelib.bot.sample_kb import SAMPLE_KB_PATH

    document = kb_io.from_json(SAMPLE_KB_PATH.read_text(encoding="utf-8"))
    bound = {name: entry.action.name for name, entry in document.intents.items() if entry.action}
    assert bound == {"order_status": "order_status", "logistics": "logistics", "refund_status": "refund_status",
                     "my_orders": "orders"}
