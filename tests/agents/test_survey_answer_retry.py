"""Issue 13, class 1, for the survey: an answer whose handling fails halfway is resumed by the
redelivery, and never becomes a question for the bot."""

from __future__ import annotations

import pytest
from support import fail_once

from chalicelib import services as composition


@pytest.fixture
def desk_with_bot(desk, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOT_ENABLED", "true")  # no model: the bot hands every question over, visibly
    composition.reset()
    return desk


def test_a_survey_answer_cut_short_is_resumed_and_not_answered_by_the_bot(desk_with_bot):
    desk = desk_with_bot
    agent = desk.connect_agent("amy", desk.agent("amy"))
    customer = desk.connect_customer("sue")
    conversation = desk.say(customer, "I need help with my order", "m1")["conversation_id"]
    desk.drain()  # the bot's handoff is offered to amy
    desk.lam.send(agent, {"action": "accept", "conversation_id": conversation})
    desk.lam.send(agent, {"action": "resolve", "conversation_id": conversation})
    desk.say(customer, "4", "m2")  # CSAT, then the NPS question

    injected = fail_once(composition.services().dynamodb, "DeleteItem",
                          when=lambda p: p.get("Key", {}).get("sk", {}).get("S") == "CSAT_PENDING")
    nine = desk.say(customer, "9", "m3")

    assert injected["failed"] == 1
    messages = [f["message"] for f in desk.frames(customer, "message")]
    thanks = [m for m in messages if m["sender"]["type"] == "system" and "feedback" in (m.get("text") or "")]
    assert len(thanks) == 1
    after_nine = [m for m in messages if m.get("seq", 0) > nine.get("seq", 0)
                  and m.get("conversation_id") == nine["conversation_id"]]
    assert all(m["sender"]["type"] != "bot" for m in after_nine), after_nine
    _status, context = desk.rest("GET", f"/agent/conversations/{conversation}", desk.admin)
    assert context["rating"]["score"] == 4 and context["rating"]["nps"] == 9
