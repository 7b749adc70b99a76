"""The local stack's moto server long-polls SQS as SQS does (local/moto_long_poll.py).

moto's own long poll found nothing to deliver while a FIFO group was in flight and looped for the
whole wait, using a core of the moto process (the bot's load run stalled on it), and it did not
deliver the group's next message in that poll even when the group came free during it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest


@pytest.fixture
def sqs(moto_server: str, aws_env: dict[str, str]) -> Any:
    return boto3.client("sqs", endpoint_url=moto_server, region_name="us-east-1")


def _fifo(sqs: Any, name: str) -> str:
    url: str = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    return url


def test_a_long_poll_gets_the_next_message_of_a_group_freed_while_it_waits(sqs: Any) -> None:
    url = _fifo(sqs, "long-poll-group")
    for body in ("first", "second"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="conversation-1")
    first = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in first] == ["first"]

    received: list[Any] = []
    waiting = threading.Thread(target=lambda: received.extend(
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])))
    waiting.start()
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    waiting.join(60)

    assert [m["Body"] for m in received] == ["second"]  # in the same poll, not an empty answer after it


def test_a_long_poll_gets_a_message_sent_while_it_waits_and_an_empty_queue_answers_after_the_wait(sqs: Any) -> None:
    url = _fifo(sqs, "long-poll-send")
    started = time.monotonic()
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
    assert time.monotonic() - started >= 0.9  # it waited (a poll that returned at once would be a busy loop)

    received: list[Any] = []
    waiting = threading.Thread(target=lambda: received.extend(
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])))
    waiting.start()
    sqs.send_message(QueueUrl=url, MessageBody="hello", MessageGroupId="conversation-2")
    waiting.join(60)
    assert [m["Body"] for m in received] == ["hello"]
