"""Replies on the channel the customer wrote from: a `MessageStored` subscriber that enqueues outbound jobs.

For every new public bot, agent or system message, the conversation's reply route (META, written
by the webhooks) says where the customer last wrote from. If that is a social channel - and the
customer has not written from the app since - an `OutboundJob` goes to the outbound queue and the
message's delivery state becomes `queued`. The app's own devices get the message through the
WebSocket fan-out as before. A failure to enqueue is recorded on the message (`failed`,
`enqueue_failed`), never swallowed silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from chalicelib.outbound.models import job_from_message
from chalicelib.webhooks.inbound import SOCIAL_CHANNELS

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools import Metrics
    from mypy_boto3_sqs import SQSClient

    from chalicelib.core.events import MessageStored
    from chalicelib.core.models import Message
    from chalicelib.store.conversation_store import ConversationStore
    from chalicelib.store.delivery_store import DeliveryStore

logger = Logger(child=True)

RECENT_MESSAGES = 20


class OutboundListener:
    def __init__(self, deliveries: DeliveryStore, conversation_store: ConversationStore, sqs: SQSClient,
                 queue_url: Callable[[], str], metrics: Metrics) -> None:
        self._deliveries = deliveries
        self._store = conversation_store
        self._sqs = sqs
        self._queue_url = queue_url
        self._metrics = metrics

    def on_message(self, event: MessageStored) -> None:
        message = event.message
        if message.sender.type == "customer" or message.visibility != "public":
            return
        route = self._deliveries.reply_route(message.conversation_id)
        if route is None or route.channel not in SOCIAL_CHANNELS:
            return
        if self._customer_moved_to_app(message, route.route_ms):
            return
        job = job_from_message(message, route)
        try:
            self._deliveries.set_delivery(message.conversation_id, message.seq, "queued", channel=route.channel)
            self._sqs.send_message(QueueUrl=self._queue_url(), MessageBody=job.model_dump_json(),
                                   MessageAttributes={"channel": {"DataType": "String", "StringValue": job.channel}})
        except Exception as exc:
            logger.exception("could not enqueue an outbound reply", extra={"message_id": message.message_id})
            self._deliveries.set_delivery(message.conversation_id, message.seq, "failed", channel=route.channel,
                                          error={"code": "enqueue_failed", "message": str(exc)[:500]})
            self._metrics.add_metric(name="OutboundEnqueueFailed", unit="Count", value=1)
            return
        self._metrics.add_metric(name="OutboundQueued", unit="Count", value=1)

    def _customer_moved_to_app(self, message: Message, route_ms: int) -> bool:
        """True if the customer's latest message came from the app (or web) after the social route was set."""
        recent, _ = self._store.list_messages(message.conversation_id, before_seq=message.seq, limit=RECENT_MESSAGES)
        for earlier in reversed(recent):
            if earlier.sender.type == "customer" and earlier.visibility == "public":
                return earlier.channel not in SOCIAL_CHANNELS and earlier.ts_ms >= route_ms
        return False
