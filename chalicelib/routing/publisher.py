"""Putting escalations on the SQS escalation queue (the bot, the customer's request, agents, supervisors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib.routing.models import EscalationRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = Logger(child=True)


class EscalationPublisher:
    def __init__(self, sqs: SQSClient, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def publish(self, request: EscalationRequest) -> str:
        """Send one escalation; returns the SQS message id. Redelivery is harmless (idempotency key)."""
        result = self._sqs.send_message(QueueUrl=self.url, MessageBody=request.model_dump_json(),
                                        MessageAttributes={"source": {"DataType": "String",
                                                                      "StringValue": request.source}})
        logger.info("escalation queued", extra={"conversation_id": request.conversation_id,
                                                "escalation_source": request.source})
        return result["MessageId"]


Publish = Callable[[EscalationRequest], Any]
