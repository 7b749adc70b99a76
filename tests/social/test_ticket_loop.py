"""Issue 16, the ticket loop with the customer: public comments and status changes reach them on their
last channel, in their language, and their "solved" / "not solved" answer closes or reopens the ticket."""

from __future__ import annotations

import json
from typing import Any

from support import agent_token

from .social_support import user_of

AGENT = agent_token("root", "admin")


def _rest(social: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = getattr(social.client.http, method.lower())(
        path, headers={"Authorization": f"Bearer {AGENT}", "Content-Type": "application/json"},
        body=json.dumps(body) if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None


def _texts(social: Any, channel: str = "whatsapp") -> list[str]:
    sent = []
    for request in social.sends(channel):
        payload = request["json"]
        if payload.get("type") == "text":
            sent.append(payload["text"]["body"])
        elif payload.get("type") == "interactive":
            sent.append(payload["interactive"]["body"]["text"])
    return sent


def _ticket_for(social: Any, text: str) -> tuple[str, str, str, str]:
    """A WhatsApp customer writes `text`; the conversation is closed; an agent opens a ticket for them."""
    from chalicelib import services as composition

    user = user_of("whatsapp")
    social.send_text("whatsapp", text, user=user)
    customer_id = social.customer_of("whatsapp", user)
    conversation_id = social.open_conversation(customer_id)
    composition.services().conversations.close(conversation_id, "resolved")  # the chat is over; the ticket is not
    status, ticket = _rest(social, "POST", "/tickets", {"subject": "Refund for order 1234", "customer_id": customer_id,
                                                        "conversation_id": conversation_id, "channel": "whatsapp"})
    assert status == 201, ticket
    social.drain_outbound()
    return user, customer_id, conversation_id, ticket["ticket_id"]


def test_public_comment_reaches_the_customer_and_their_solved_answer_closes_the_ticket(social):
    user, customer_id, first_conversation, ticket_id = _ticket_for(social, "I want a refund for order 1234")
    assert any(ticket_id in t for t in _texts(social))  # "we have opened ticket ..." on WhatsApp

    # an internal comment stays inside; a public one reaches the customer's WhatsApp
    assert _rest(social, "PATCH", f"/tickets/{ticket_id}", {"comment": "customer is VIP, check stock"})[0] == 200
    assert _rest(social, "PATCH", f"/tickets/{ticket_id}",
                 {"comment": "The refund was sent to your card.", "public": True})[0] == 200
    social.drain_outbound()
    texts = _texts(social)
    assert any("The refund was sent to your card." in t and ticket_id in t for t in texts)
    assert not any("VIP" in t for t in texts)

    # solved: the customer is asked, with two quick-reply buttons
    assert _rest(social, "PATCH", f"/tickets/{ticket_id}", {"status": "solved"})[0] == 200
    social.drain_outbound()
    question = social.sends("whatsapp")[-1]["json"]
    assert question["type"] == "interactive"
    assert "Is your problem solved?" in question["interactive"]["body"]["text"]
    assert [b["reply"]["id"] for b in question["interactive"]["action"]["buttons"]] == \
        ["ticket:solved", "ticket:not_solved"]

    # the customer answers "solved": the ticket closes, they are thanked, the bot never saw it
    social.send_text("whatsapp", "solved", user=user)
    social.drain_outbound()
    _, ticket = _rest(social, "GET", f"/tickets/{ticket_id}")
    assert ticket["status"] == "closed"
    assert ticket["audit"][-1]["actor"] == f"customer:{customer_id}"
    assert "Thank you for confirming! Ticket" in _texts(social)[-1]
    conversation_id = social.open_conversation(customer_id)
    assert conversation_id != first_conversation  # a new conversation on the same WhatsApp number
    senders = [m.sender.type for m in social.messages(conversation_id)]
    assert "bot" not in senders


def test_not_solved_in_chinese_reopens_the_ticket_and_answers_in_chinese(social):
    user, _, _, ticket_id = _ticket_for(social, "我的订单 1234 还没有退款")
    assert any("我们已为您创建工单" in t for t in _texts(social))
    assert _rest(social, "PATCH", f"/tickets/{ticket_id}", {"status": "solved"})[0] == 200
    social.drain_outbound()
    assert "您的问题解决了吗" in _texts(social)[-1]

    social.send_text("whatsapp", "没有解决", user=user)
    social.drain_outbound()
    _, ticket = _rest(social, "GET", f"/tickets/{ticket_id}")
    assert ticket["status"] == "open"
    assert "已重新打开" in _texts(social)[-1]
    assert sum("已重新打开" in t for t in _texts(social)) == 1  # not told twice (answer + status change)


def test_a_solved_word_without_a_pending_question_is_an_ordinary_message(social):
    from chalicelib import services as composition

    user = user_of("whatsapp")
    social.send_text("whatsapp", "solved", user=user)
    customer_id = social.customer_of("whatsapp", user)
    conversation_id = social.open_conversation(customer_id)
    assert composition.services().ticket_loop.list_for_customer(customer_id) == []
    assert [m.text for m in social.messages(conversation_id) if m.sender.type == "customer"] == ["solved"]
