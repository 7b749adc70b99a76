"""The outbound queue's consumer: policy check, send once per part, retry with backoff, dead-letter.

For each job (Powertools `BatchProcessor`, partial batch responses):

1. the channel policy (`policies.check_and_split`) is applied with the customer's latest message
   time: a refusal (e.g. `outside_24h_window`) is final - the message's delivery becomes
   `refused` with the code and reason, the agents of the conversation get a `delivery` frame;
2. each part is claimed with a conditional marker item (`OUTBOX#<message>` / `PART#n`) in the name of
   the SQS message, sent with `ChannelSender`, then marked `sent`: a redelivered job skips the parts
   already sent, and takes back a claim of its own that a failed attempt left (a duplicate job waits);
3. a retryable failure (429, 5xx, network) before the last attempt releases the part, sets the
   record's visibility to an exponential backoff (`ApproximateReceiveCount`, at least the
   platform's Retry-After) and reports the record as failed, so SQS hands it back later;
4. a permanent failure, or the last attempt, sends the job to the DLQ itself with the platform's
   error in the body, marks the message `failed` with that error and reports success (the job is
   deleted from the main queue). The queue's own redrive (maxReceiveCount above MAX_ATTEMPTS) is
   only the backstop for crashes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import ValidationError

from chalicelib import ids
from chalicelib.channels.errors import ChannelError, PolicyViolation, SendError
from chalicelib.channels.policies import check_and_split
from chalicelib.channels.registry import spec_for
from chalicelib.outbound.models import OutboundJob
from chalicelib.realtime import frames
from chalicelib.store.delivery_store import delivery_changed

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_sqs import SQSClient

    from chalicelib.channels.http import ChannelSender, HttpResponse
    from chalicelib.realtime.notifier import Notifier
    from chalicelib.store.delivery_store import DeliveryStore
    from chalicelib.webhooks.inbound import ChannelSecrets

logger = Logger(child=True)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 900
CLAIM_LEASE_SECONDS = 60
# Start no job with less time left than one platform call may take (10 s timeout) plus a margin; a
# job cut short by the timeout anyway is safe to redeliver: parts already sent are marked.
TIME_RESERVE_MS = 12_000


class RetryLater(Exception):
    """The record failed for now; SQS redelivers it after the visibility timeout set for it."""


def backoff_seconds(attempt: int, retry_after: float | None = None) -> int:
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    if retry_after:
        delay = max(delay, min(BACKOFF_MAX_SECONDS, int(retry_after + 0.999)))
    return int(delay)


def platform_message_id(channel: str, response: HttpResponse) -> str | None:
    """The id the platform gave the sent message (receipts refer to it)."""
    body = response.json()
    if not isinstance(body, dict):
        return None
    value = spec_for(channel).sent_id(body)
    return str(value) if value not in (None, "") else None


class OutboundConsumer:
    def __init__(self, deliveries: DeliveryStore, sender: ChannelSender, secrets: ChannelSecrets, sqs: SQSClient,
                 queue_url: Callable[[str], str], dlq_name: str, notifier: Notifier, metrics: Metrics,
                 max_attempts: int = MAX_ATTEMPTS,
                 fallback: Callable[[OutboundJob, PolicyViolation], OutboundJob | None] | None = None,
                 publish: Callable[[object], None] | None = None) -> None:
        self._publish = publish  # DeliveryChanged, once per message that failed or was refused
        # fallback (issue 16): the template that goes instead when the window refuses free text
        self._fallback = fallback
        self._deliveries = deliveries
        self._sender = sender
        self._secrets = secrets
        self._sqs = sqs
        self._queue_url = queue_url
        self._dlq_name = dlq_name
        self._notifier = notifier
        self._metrics = metrics
        self._max_attempts = max_attempts

    def handle_batch(self, event: dict[str, Any], context: LambdaContext | None = None) -> PartialItemFailureResponse:
        # Every record failing (e.g. one job, retried) is still a partial response with its own
        # backoff, not a function error that would retry the batch at the queue's timeout.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        remaining = getattr(context, "get_remaining_time_in_millis", None)

        def handler(record: SQSRecord) -> str:
            # A slow platform must not run the invocation into its timeout with sends half done:
            # the records not started in time go back to the queue at once, without a send.
            if remaining is not None and remaining() < TIME_RESERVE_MS:
                self._requeue(record)
                raise RetryLater("not enough time left in this invocation")
            return self.process(record)

        return process_partial_response(event=event, record_handler=handler, processor=processor, context=context)

    # -- one record --------------------------------------------------------------------------

    def process(self, record: SQSRecord) -> str:
        attempt = int(record.attributes.approximate_receive_count or 1)
        try:
            job = OutboundJob.model_validate_json(record.body)
        except ValidationError as exc:
            self._dead_letter(record.body, {"code": "invalid_job", "message": str(exc)[:1000]}, attempt)
            return "invalid"
        last = self._last_customer_message(job)
        now = datetime.fromtimestamp(ids.now_ms() / 1000, UTC)  # the one clock
        via_template: dict[str, Any] = {}
        try:
            parts = check_and_split(job.outbound_message(), spec_for(job.channel).policy, last, now)
        except PolicyViolation as exc:
            replacement = (self._fallback(job, exc) if self._fallback is not None and job.template is None
                           and job.message_tag is None else None)
            if replacement is None:
                self._refuse(job, exc)
                return "refused"
            try:  # issue 16: the channel's re-engagement template instead of the refused free text
                parts = check_and_split(replacement.outbound_message(), spec_for(job.channel).policy, last, now)
            except PolicyViolation as again:
                self._refuse(job, again)
                return "refused"
            via_template = {"via_template": replacement.template.name if replacement.template
                            else replacement.message_tag, "refused_free_text": exc.code}
            job = replacement
        secrets = self._secrets.for_channel(job.channel)
        platform_ids: list[str] = []
        for index, part in enumerate(parts):
            claim = self._deliveries.claim_part(job.message_id, index, CLAIM_LEASE_SECONDS, record.message_id)
            if claim == "sent":
                if (known := self._deliveries.sent_platform_id(job.message_id, index)) is not None:
                    platform_ids.append(known)
                continue
            if claim == "busy":  # another invocation is sending this part right now
                self._retry(record, job, attempt, None,
                            {"code": "part_busy", "message": "another invocation is sending this part"})
            try:
                responses = self._sender.send(part, secrets)
            except SendError as exc:
                self._deliveries.release_part(job.message_id, index)
                error = _send_error(exc)
                if exc.retryable and attempt < self._max_attempts:
                    self._retry(record, job, attempt, exc.retry_after, error)
                self._fail(job, error, attempt, record.body)
                return "failed"
            except ChannelError as exc:  # configuration problems, adapter-level refusals
                self._deliveries.release_part(job.message_id, index)
                self._fail(job, {"code": exc.code, "message": exc.reason}, attempt, record.body)
                return "failed"
            platform_id = platform_message_id(job.channel, responses[-1]) if responses else None
            self._deliveries.mark_part_sent(job.message_id, index, platform_id)
            if platform_id:
                platform_ids.append(platform_id)
        self._deliveries.set_delivery(job.conversation_id, job.seq, "sent", channel=job.channel, parts=len(parts),
                                      platform_ids=platform_ids, attempts=attempt, **via_template)
        for platform_id in platform_ids:  # after "sent", so an early receipt cannot be overwritten by it
            self._deliveries.index_platform_message(job.channel, platform_id, job.conversation_id, job.seq,
                                                    job.message_id)
        self._metrics.add_metric(name="OutboundSent", unit="Count", value=1)
        return "sent"

    # -- outcomes ----------------------------------------------------------------------------

    def _last_customer_message(self, job: OutboundJob) -> datetime | None:
        latest = job.last_customer_ms or 0
        route = self._deliveries.reply_route(job.conversation_id)
        if route is not None:
            latest = max(latest, route.last_customer_ms.get(job.channel, 0))
        return datetime.fromtimestamp(latest / 1000, UTC) if latest else None

    def _retry(self, record: SQSRecord, job: OutboundJob, attempt: int, retry_after: float | None,
               error: dict[str, Any]) -> None:
        delay = backoff_seconds(attempt, retry_after)
        self._deliveries.set_delivery(job.conversation_id, job.seq, "queued", channel=job.channel, attempts=attempt,
                                      last_error=error, next_attempt_in_s=delay)
        try:
            self._sqs.change_message_visibility(QueueUrl=self._queue_url(_queue_name(record.event_source_arn)),
                                                ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay)
        except Exception:  # the queue's own visibility timeout still brings it back
            logger.exception("could not set the retry backoff", extra={"message_id": job.message_id})
        self._metrics.add_metric(name="OutboundRetried", unit="Count", value=1)
        logger.warning("outbound send will be retried", extra={"message_id": job.message_id, "attempt": attempt,
                                                               "delay_s": delay, "error": error})
        raise RetryLater(f"attempt {attempt} of {job.message_id} failed; retry in {delay}s")

    def _requeue(self, record: SQSRecord) -> None:
        try:
            self._sqs.change_message_visibility(QueueUrl=self._queue_url(_queue_name(record.event_source_arn)),
                                                ReceiptHandle=record.receipt_handle, VisibilityTimeout=1)
        except Exception:
            logger.exception("could not hand a record back early")

    def _refuse(self, job: OutboundJob, exc: PolicyViolation) -> None:
        error = {"code": exc.code, "message": exc.reason}
        self._finished(job, self._deliveries.finish_delivery(job.conversation_id, job.seq, "refused",
                                                             channel=job.channel, error=error), exc.code)
        self._notify_agents(job, "refused", error)
        self._metrics.add_metric(name="OutboundRefused", unit="Count", value=1)
        logger.warning("outbound message refused by channel policy", extra={"message_id": job.message_id,
                                                                            "channel": job.channel, "error": error})

    def _fail(self, job: OutboundJob, error: dict[str, Any], attempt: int, body: str) -> None:
        self._dead_letter(body, error, attempt)
        self._finished(job, self._deliveries.finish_delivery(job.conversation_id, job.seq, "failed",
                                                             channel=job.channel, error=error, attempts=attempt),
                       str(error.get("code") or "failed"))
        self._notify_agents(job, "failed", error)
        self._metrics.add_metric(name="OutboundFailed", unit="Count", value=1)
        logger.error("outbound message failed", extra={"message_id": job.message_id, "channel": job.channel,
                                                       "attempt": attempt, "error": error})

    def _finished(self, job: OutboundJob, moved: dict[str, Any] | None, code: str) -> None:
        if moved is not None and self._publish is not None:  # a redelivered job finds it final: nothing new
            self._publish(delivery_changed(moved, job.channel, customer_id=job.customer_id, error_code=code))

    def _dead_letter(self, body: str, error: dict[str, Any], attempt: int) -> None:
        try:
            job: Any = json.loads(body)
        except (TypeError, ValueError):
            job = body
        payload = {"job": job, "error": error, "attempts": attempt, "failed_at": ids.iso_from_ms(ids.now_ms())}
        self._sqs.send_message(QueueUrl=self._queue_url(self._dlq_name), MessageBody=json.dumps(payload, default=str),
                               MessageAttributes={"error_code": {"DataType": "String",
                                                                 "StringValue": str(error.get("code", "error"))}})

    def _notify_agents(self, job: OutboundJob, status: str, error: dict[str, Any]) -> None:
        """Agents watching the conversation see at once that the customer did not get the message."""
        try:
            self._notifier.to_conversation(job.conversation_id, frames.delivery(
                job.conversation_id, job.message_id, job.seq, job.channel, status, error), owner_type="agent")
        except Exception:
            logger.exception("could not notify agents of a delivery problem", extra={"message_id": job.message_id})


def _send_error(exc: SendError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.reason, "http_status": exc.http_status,
            "platform_error": exc.platform_error, "retryable": exc.retryable}


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
