"""`EffectsOutbox`: schedule a stored message's effects on the FIFO effects queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.effects.models import EffectsJob

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_sqs import SQSClient

    from chalicelib.core.models import Message


class EffectsOutbox:
    def __init__(self, sqs: SQSClient, queue_url: Callable[[], str]) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def schedule(self, message: Message, *, redelivered: bool = False, origin_connection: str | None = None,
                 dedup_pk: str | None = None) -> None:
        """One record per message, grouped by conversation (order), deduplicated by message id.

        Raises what SQS raises: the caller's request then fails and is retried by its client, and
        the retry, finding the message stored, schedules the effects again.
        """
        job = EffectsJob(message=message, redelivered=redelivered, origin_connection=origin_connection,
                         dedup_pk=dedup_pk)
        self._sqs.send_message(QueueUrl=self._queue_url(), MessageBody=job.model_dump_json(exclude_none=True),
                               MessageGroupId=message.conversation_id, MessageDeduplicationId=message.message_id)
