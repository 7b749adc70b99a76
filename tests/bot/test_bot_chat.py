"""The bot in the chat: answers over WebSocket, quick replies, handoffs with escalations, silence with humans."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from support import customer_token

from chalicelib import services as composition
from chalicelib.bot.training import ModelPointer, model_key


@pytest.fixture
def trained(aws: Any, kb_model) -> Any:
    """The tiny KB model published as version 1 (S3 artifact + pointer)."""
    registry = composition.services().model_registry
    registry.publish(kb_model[1], ModelPointer(version=1, s3_key=model_key(1), trained_ms=1))
    return kb_model[0]


@pytest.fixture
def escalations(aws: Any):
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["ESCALATION_QUEUE_NAME"])["QueueUrl"]

    def drain() -> list[dict]:
        out = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in messages:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    return drain


def _say(lam, connection_id: str, text: str, n: list[int] = [0]) -> None:  # noqa: B006 - a counter
    n[0] += 1
    lam.send(connection_id, {"action": "sendMessage", "client_msg_id": f"b{n[0]}", "text": text})


def _bot_frames(management_api, connection_id: str) -> list[dict]:
    return [f["message"] for f in management_api.of_type(connection_id, "message")
            if f["message"]["sender"]["type"] == "bot"]


def _stored_bot_messages(table, conversation_id: str) -> list[dict]:
    items = table.query(KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
                        ExpressionAttributeValues={":pk": f"CONV#{conversation_id}", ":m": "MSG#"})["Items"]
    return [i for i in items if i["sender"]["type"] == "bot"]


def test_customer_gets_the_kb_answer_in_their_language_on_every_device(lam, management_api, table, trained):
    token = customer_token("alice")
    lam.connect("phone=", token)
    lam.connect("tablet=", token)

    _say(lam, "phone=", "where is my order?")
    _say(lam, "phone=", "我的退款到哪了")

    [ack, _] = management_api.of_type("phone=", "ack")
    answers = [m["text"] for m in _bot_frames(management_api, "phone=")]
    assert answers == ["You can track it under My orders.", "退款会在1-5个工作日内到账。"]
    assert [m["text"] for m in _bot_frames(management_api, "tablet=")] == answers
    first = _bot_frames(management_api, "phone=")[0]
    assert first["channel"] == "app" and first["sender"]["id"] == "bot" and "meta" not in first  # scores stay inside
    [stored, _] = _stored_bot_messages(table, ack["conversation_id"])
    meta = stored["meta"]
    assert meta["intent"] == "track_order" and meta["action"] == "answer" and meta["reason"] == "confident"
    assert float(meta["confidence"]) >= 0.6 and meta["sentiment"] == "neutral" and meta["language"] == "en"
    assert meta["in_reply_to"] == ack["message_id"] and meta["model_version"] == 1


def test_ambiguous_question_gets_quick_replies_in_the_frame(lam, management_api, table, trained, monkeypatch):
    monkeypatch.setenv("BOT_ANSWER_THRESHOLD", "1.01")  # nothing is confident enough: always suggest
    composition.reset()
    lam.connect("phone=", customer_token("alice"))

    _say(lam, "phone=", "退款")

    [suggestion] = _bot_frames(management_api, "phone=")
    assert suggestion["text"] == "您是想咨询以下哪个问题？"
    replies = suggestion["meta"]["quick_replies"]
    assert replies[0] == {"title": "退款什么时候到账？", "payload": "退款什么时候到账？"}
    assert all(set(r) == {"title", "payload"} for r in replies)


def test_asking_for_a_human_hands_over_and_then_the_bot_stays_silent(lam, management_api, escalations, trained):
    lam.connect("phone=", customer_token("alice", name="Alice"))

    _say(lam, "phone=", "转人工")
    _say(lam, "phone=", "在吗？")

    [handoff] = _bot_frames(management_api, "phone=")
    assert handoff["text"] == "正在为您转接人工客服，请稍候，客服会尽快回复您。"
    [request] = escalations()
    ack = management_api.of_type("phone=", "ack")[0]
    assert request["conversation_id"] == ack["conversation_id"] and request["customer_id"] == "alice"
    assert request["reason"] == "customer_request" and request["language"] == "zh" and request["source"] == "bot"
    assert request["idempotency_key"] == f"bot#{ack['message_id']}" and request["vip"] is False


def test_look_alike_does_not_hand_over(lam, management_api, escalations, trained):
    lam.connect("phone=", customer_token("alice"))
    _say(lam, "phone=", "你们用人工智能吗")
    assert escalations() == []
    assert _bot_frames(management_api, "phone=")[0]["text"] != "正在为您转接人工客服，请稍候，客服会尽快回复您。"


def test_three_misses_hand_over(lam, management_api, table, escalations, trained):
    lam.connect("phone=", customer_token("alice"))

    for text in ("what's the weather like", "tell me a joke", "who won the football match"):
        _say(lam, "phone=", text)

    conversation_id = management_api.of_type("phone=", "ack")[0]["conversation_id"]
    actions = [(m["meta"]["action"], m["meta"]["reason"]) for m in _stored_bot_messages(table, conversation_id)]
    assert actions == [("fallback", "out_of_scope"), ("fallback", "out_of_scope"), ("handoff", "repeated_misses")]
    assert [r["reason"] for r in escalations()] == ["repeated_misses"]


def test_angry_customer_is_handed_over_with_their_sentiment(lam, escalations, trained):
    lam.connect("phone=", customer_token("alice"))
    _say(lam, "phone=", "This is a scam, I'm furious!! Worst shop ever")
    [request] = escalations()
    assert request["reason"] == "negative_sentiment" and request["sentiment"] <= -0.5


def test_vip_customer_is_handed_over_at_once(lam, escalations, trained):
    lam.connect("phone=", customer_token("vera", vip=True))
    _say(lam, "phone=", "where is my order?")
    [request] = escalations()
    assert request["reason"] == "vip" and request["vip"] is True


def test_bot_is_silent_when_a_human_agent_has_the_conversation(lam, management_api, table, trained):
    lam.connect("phone=", customer_token("alice"))
    _say(lam, "phone=", "hello")
    conversation_id = management_api.of_type("phone=", "ack")[0]["conversation_id"]
    table.update_item(Key={"pk": f"CONV#{conversation_id}", "sk": "META"},
                      UpdateExpression="SET assigned_agent = :a, routing_status = :s",
                      ExpressionAttributeValues={":a": "amy", ":s": "assigned"})

    _say(lam, "phone=", "where is my order?")

    assert len(_bot_frames(management_api, "phone=")) == 1  # only the greeting


def test_without_a_model_the_customer_is_told_and_handed_over(lam, management_api, escalations, aws):
    lam.connect("phone=", customer_token("alice"))
    _say(lam, "phone=", "where is my order?")
    [reply] = _bot_frames(management_api, "phone=")
    assert "not trained yet" in reply["text"]
    assert [r["reason"] for r in escalations()] == ["not_trained"]


def test_bot_can_be_switched_off(lam, management_api, monkeypatch, trained):
    monkeypatch.setenv("BOT_ENABLED", "false")
    composition.reset()
    lam.connect("phone=", customer_token("alice"))
    _say(lam, "phone=", "where is my order?")
    assert _bot_frames(management_api, "phone=") == []


def test_a_bare_number_answering_the_survey_is_not_a_question_for_the_bot(lam, management_api, aws, trained):
    """After a resolve, "4" answers the survey: the customer gets the survey's next step, no bot fallback."""
    from agents.desk import Desk

    desk = Desk(lam, management_api, aws)
    try:
        agent = desk.connect_agent("amy", desk.agent("amy"))
        customer = desk.connect_customer("bob")
        desk.say(customer, "I need help", "bob-1")
        lam.send(customer, {"action": "requestHuman", "client_msg_id": "h1", "language": "en"})
        desk.drain()
        conversation = desk.frames(customer, "escalation")[-1]["conversation_id"]
        lam.send(agent, {"action": "accept", "conversation_id": conversation})
        lam.send(agent, {"action": "resolve", "conversation_id": conversation})
        seen = len(desk.frames(customer, "message"))

        desk.say(customer, "4", "bob-2")

        answers = [f["message"] for f in desk.frames(customer, "message")[seen:]]
        assert [m for m in answers if m["sender"]["type"] == "bot"] == []
        assert any(m["sender"]["type"] == "system" and m["sender"]["id"] == "csat" for m in answers)
        _status, context = desk.rest("GET", f"/agent/conversations/{conversation}", desk.admin)
        assert context["rating"]["score"] == 4
    finally:
        desk.close()
