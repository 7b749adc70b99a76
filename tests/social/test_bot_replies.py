"""With the bot wired: a retried delivery gets one bot answer on the platform, not three."""

from __future__ import annotations

from .social_support import user_of


def test_triple_delivery_gets_one_bot_reply(bot_enabled, social):
    user = user_of("telegram")
    responses = social.send_text("telegram", "hello", user=user, event_id="777001", repeat=3)
    assert [r.json_body["stored"] for r in responses] == [1, 0, 0]
    conversation_id = social.open_conversation(social.customer_of("telegram", user))
    social.drain_outbound()
    messages = social.messages(conversation_id)
    assert [m.sender.type for m in messages] == ["customer", "bot"]
    [sent] = social.sends("telegram")
    assert sent["json"] == {"chat_id": user, "text": messages[1].text}
