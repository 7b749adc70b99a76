"""Issue 16 over the chat socket: customers list their own tickets (public comments only) with their
customer token and set their marketing consent; a share of the conversations the bot closed alone get
the CSAT question, and their answer is a bot-only rating."""

from __future__ import annotations

import time

import pytest
from support import agent_token

from chalicelib import ids


@pytest.fixture
def clock():
    offset = {"s": 0.0}
    ids.set_clock(lambda: time.time() + offset["s"])
    yield offset
    ids.set_clock(None)


def test_customer_lists_own_tickets_without_internal_comments_and_hears_public_ones(desk):
    customer = desk.connect_customer("zed")
    ack = desk.say(customer, "我的包裹丢了", "z1")
    status, ticket = desk.rest("POST", "/tickets", desk.admin, {"subject": "Lost parcel", "customer_id": "zed",
                                                              "conversation_id": ack["conversation_id"]})
    assert status == 201
    desk.rest("POST", "/tickets", desk.admin, {"subject": "Someone else's", "customer_id": "yan"})
    ticket_id = ticket["ticket_id"]
    assert desk.rest("PATCH", f"/tickets/{ticket_id}", desk.admin, {"comment": "courier blames the customer"})[0] == 200
    assert desk.rest("PATCH", f"/tickets/{ticket_id}", desk.admin,
                     {"comment": "A new parcel left today.", "public": True, "status": "pending"})[0] == 200

    texts = [f["message"]["text"] for f in desk.frames(customer, "message")]
    assert any("我们已为您创建工单" in t for t in texts)  # in the customer's language
    assert any("A new parcel left today." in t and "有新回复" in t for t in texts)
    assert any("正在等待您的回复" in t for t in texts)
    assert not any("courier" in t for t in texts)
    ticket_messages = [f["message"] for f in desk.frames(customer, "message")
                       if "ticket" in f["message"].get("meta", {})]
    assert ticket_messages and ticket_messages[0]["meta"]["ticket"]["ticket_id"] == ticket_id

    desk.lam.send(customer, {"action": "tickets"})
    listed = desk.frames(customer, "tickets")[-1]["tickets"]
    assert [t["ticket_id"] for t in listed] == [ticket_id]
    assert listed[0]["status"] == "pending" and listed[0]["subject"] == "Lost parcel"
    assert [c["text"] for c in listed[0]["comments"]] == ["A new parcel left today."]
    assert "assignee" not in listed[0] and "tags" not in listed[0]


def test_agents_cannot_use_the_customer_frames_and_customers_set_consent(desk):
    agent = desk.connect_agent("amy", desk.agent("amy"))
    desk.lam.send(agent, {"action": "tickets"})
    assert desk.frames(agent, "error")[-1]["code"] == "forbidden"

    from chalicelib import services as composition

    customer = desk.connect_customer("zed")
    desk.lam.send(customer, {"action": "consent", "granted": True, "channel": "app"})
    assert desk.frames(customer, "consent")[-1]["granted"] is True
    assert composition.services().consent.may_market("zed", "app") is True
    desk.lam.send(customer, {"action": "consent", "granted": False})  # every channel
    assert composition.services().consent.may_market("zed", "app") is False
    desk.lam.send(customer, {"action": "consent", "granted": "maybe"})
    assert desk.frames(customer, "error")[-1]["code"] == "invalid_frame"


def test_a_share_of_bot_only_conversations_get_the_csat_question(desk, clock):
    from chalicelib import services as composition

    desk.config(idle_close_minutes=15, bot_survey_share=1.0)
    customer = desk.connect_customer("zed")
    ack = desk.say(customer, "where is my parcel?", "z1")
    clock["s"] = 20 * 60
    assert desk.sweep()["idle_closed"] == 1
    question = desk.frames(customer, "message")[-1]["message"]
    assert question["meta"]["csat"]["conversation_id"] == ack["conversation_id"]

    desk.say(customer, "5", "z2")
    rating = composition.services().csat.get(ack["conversation_id"])
    assert rating is not None and rating["score"] == 5 and rating["agent_id"] is None

    desk.config(bot_survey_share=0.0)  # the default: bot-only conversations are not surveyed
    other = desk.connect_customer("yan")
    asked = desk.say(other, "hello", "y1")
    clock["s"] = 40 * 60
    desk.sweep()
    assert not any(f["message"].get("meta", {}).get("csat") for f in desk.frames(other, "message"))
    assert composition.services().csat.get(asked["conversation_id"]) is None


def test_the_bot_survey_share_is_a_stable_draw(desk):
    from chalicelib import services as composition

    desk.config(bot_survey_share=0.3)
    csat = composition.services().csat
    picks = [csat.surveys_bot_only(f"conv_{n}") for n in range(2000)]
    assert picks == [csat.surveys_bot_only(f"conv_{n}") for n in range(2000)]
    assert 0.25 < sum(picks) / len(picks) < 0.35


def test_bot_survey_share_is_validated(desk):
    status, _ = desk.rest("PUT", "/admin/config", agent_token("root", "admin"), {"bot_survey_share": 1.5})
    assert status == 400
