"""Every platform: a signed message is stored once and the agent's reply goes out once, on its channel."""

from __future__ import annotations

import pytest

from .social_support import CHANNELS, user_of


@pytest.mark.parametrize("channel", CHANNELS)
def test_signed_message_is_stored_once_and_answered_on_its_channel(social, channel):
    user = user_of(channel)
    responses = social.send_text(channel, "Where is my order?", user=user, repeat=3)  # the platform retries
    assert [r.status_code for r in responses] == [200, 200, 200]
    if channel == "wechat":
        assert responses[0].body == b"success"
        assert responses[0].headers["Content-Type"].startswith("text/plain")
    else:
        assert [r.json_body["stored"] for r in responses] == [1, 0, 0]

    customer_id = social.customer_of(channel, user)
    assert customer_id.startswith("cus_")
    conversation_id = social.open_conversation(customer_id)
    [inbound] = social.messages(conversation_id)
    assert inbound.text == "Where is my order?" and inbound.channel == channel
    assert inbound.sender.type == "customer" and inbound.meta["external_user_id"] == user

    reply = social.agent_reply(conversation_id, "It ships today.")
    assert social.delivery(reply)["status"] == "queued"
    social.drain_outbound()

    [sent] = social.sends(channel)
    payload = sent["json"]
    if channel == "wechat":
        assert payload == {"touser": user, "msgtype": "text", "text": {"content": "It ships today."}}
    elif channel == "whatsapp":
        assert payload["to"] == user and payload["text"]["body"] == "It ships today."
    elif channel == "messenger":
        assert payload["recipient"] == {"id": user} and payload["message"]["text"] == "It ships today."
    elif channel == "telegram":
        assert payload == {"chat_id": user, "text": "It ships today."}
    elif channel == "line":
        assert payload["to"] == user and payload["messages"] == [{"type": "text", "text": "It ships today."}]
    else:
        assert payload["to"] == {"id": user} and payload["text"] == "It ships today."
    delivery = social.delivery(reply)
    assert delivery["status"] == "sent" and delivery["parts"] == 1
