"""Issue 13, class 1: a message whose first attempt fails halfway still has every effect, once.

Faults are injected where AWS would produce them, on the app's own boto3 clients (a botocore
`before-call` hook raising the error the service would return): the effects queue refusing the
first schedule, a throttled read in the middle of the effects, a survey answer cut short."""

from __future__ import annotations

from typing import Any

import pytest
from analytics_flow import stream_events
from support import customer_token, fail_once

from chalicelib import services as composition
from chalicelib.bot.training import ModelPointer, model_key


@pytest.fixture
def trained(aws: Any, kb_model) -> Any:
    registry = composition.services().model_registry
    registry.publish(kb_model[1], ModelPointer(version=1, s3_key=model_key(1), trained_ms=1))
    return kb_model[0]


def _effects_queue(params: dict[str, Any]) -> bool:
    return str(params.get("QueueUrl", "")).endswith("effects.fifo")


def _messages(management_api, connection_id: str, sender: str) -> list[dict]:
    return [f["message"] for f in management_api.of_type(connection_id, "message")
            if f["message"]["sender"]["type"] == sender]


def _stored(table, conversation_id: str) -> list[dict]:
    return table.query(KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
                       ExpressionAttributeValues={":pk": f"CONV#{conversation_id}", ":m": "MSG#"})["Items"]


def test_a_message_whose_effects_could_not_be_scheduled_gets_them_on_the_clients_retry(
        lam, management_api, table, aws, trained):
    token = customer_token("alice")
    lam.connect("phone=", token)
    lam.connect("tablet=", token)
    injected = fail_once(composition.services().sqs, "SendMessage", when=_effects_queue)
    frame = {"action": "sendMessage", "client_msg_id": "m1", "text": "where is my order?"}

    lam.send("phone=", frame)
    [error] = management_api.of_type("phone=", "error")
    assert injected["failed"] == 1 and error["client_msg_id"] == "m1" and error["retryable"] is True
    assert _messages(management_api, "tablet=", "customer") == []  # stored, but nothing happened yet

    lam.send("phone=", frame)  # the SDK sends the same frame again
    [ack] = management_api.of_type("phone=", "ack")
    assert ack["duplicate"] is True
    stored = _stored(table, ack["conversation_id"])
    assert [m["sender"]["type"] for m in stored] == ["customer", "bot"]  # stored once, answered once
    assert [m["text"] for m in _messages(management_api, "tablet=", "customer")] == ["where is my order?"]
    assert len(_messages(management_api, "phone=", "bot")) == len(_messages(management_api, "tablet=", "bot")) == 1
    assert [e["message_id"] for e in stream_events(aws, "message_in")] == [ack["message_id"]]

    lam.send("phone=", frame)  # once more, after everything happened: nothing happens twice
    assert [m["sender"]["type"] for m in _stored(table, ack["conversation_id"])] == ["customer", "bot"]
    assert len(_messages(management_api, "tablet=", "bot")) == 1
    assert len({e["event_id"] for e in stream_events(aws, "message_in")}) == 1


def test_effects_cut_short_by_a_throttled_read_resume_where_they_stopped(lam, management_api, table, aws, trained):
    token = customer_token("bob")
    lam.connect("phone=", token)
    lam.connect("tablet=", token)
    # the bot's state read (conversation, profile, bot state) is throttled once: the effects before
    # it (fan-out, analytics, agent relay, survey) ran; SQS delivers the record again
    injected = fail_once(composition.services().dynamodb, "BatchGetItem", code="ProvisionedThroughputExceededException")

    lam.send("phone=", {"action": "sendMessage", "client_msg_id": "m1", "text": "where is my order?"})

    assert injected["failed"] == 1
    [first, second] = [r for batch in lam.effects.batches for r in batch["Records"]][:2]
    assert first["messageId"] == second["messageId"]  # the same record, delivered again
    [ack] = management_api.of_type("phone=", "ack")
    assert [m["text"] for m in _messages(management_api, "tablet=", "customer")] == ["where is my order?"]  # once
    assert len(_messages(management_api, "tablet=", "bot")) == 1
    assert [m["sender"]["type"] for m in _stored(table, ack["conversation_id"])] == ["customer", "bot"]
    assert len(stream_events(aws, "message_in")) == 1  # not recorded twice either
