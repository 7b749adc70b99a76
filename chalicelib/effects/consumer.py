"""`EffectsConsumer`: the effects queue's records to `MessageStored` subscribers, strictly.

Powertools' FIFO batch processor with `skip_group_on_error`: when one record fails, the later
records of the same conversation in the batch are reported failed too (they must not overtake
it), the other conversations go on. A record whose body is not an `EffectsJob` can never succeed:
it is logged and dropped rather than retried into the DLQ.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from pydantic import ValidationError

from chalicelib import ids
from chalicelib.core.bus import SubscriberFailed
from chalicelib.core.events import MessageStored
from chalicelib.effects.models import EffectsJob

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from chalicelib.core.bus import EventBus
    from chalicelib.effects.progress import EffectsProgress

logger = Logger(child=True)


class EffectsConsumer:
    def __init__(self, bus: EventBus, progress: EffectsProgress, effects_done: Callable[[str], None],
                 metrics: Metrics) -> None:
        self._bus = bus
        self._progress = progress
        self._effects_done = effects_done
        self._metrics = metrics

    def handle_batch(self, event: dict[str, Any], context: LambdaContext | None = None) -> PartialItemFailureResponse:
        processor = SqsFifoPartialProcessor(skip_group_on_error=True)
        # A batch that failed whole is answered like a partial one (every record reported), not by
        # failing the invocation: the same retry, without an error invocation per blocked group.
        processor.raise_on_entire_batch_failure = False
        return process_partial_response(event=event, record_handler=self._record, processor=processor,
                                        context=context)

    def _record(self, record: SQSRecord) -> str:
        try:
            job = EffectsJob.model_validate_json(record.body)
        except ValidationError as exc:
            logger.error("malformed effects record dropped", extra={"sqs_message_id": record.message_id,
                                                                    "errors": exc.errors(include_url=False)[:5]})
            self._metrics.add_metric(name="EffectsMalformed", unit=MetricUnit.Count, value=1)
            return "malformed"
        message = job.message
        redelivered = job.redelivered or int(record.attributes.approximate_receive_count or 1) > 1
        logger.append_keys(conversation_id=message.conversation_id, message_id=message.message_id)
        started = time.perf_counter()
        try:
            skip = self._progress.completed(message.message_id) if redelivered else frozenset()
            self._bus.deliver(MessageStored(message=message, redelivered=redelivered,
                                            origin_connection=job.origin_connection), skip)
        except SubscriberFailed as failed:
            logger.error("effects failed; SQS will deliver them again",
                         extra={"redelivered": redelivered, "failed": str(failed), "completed": failed.completed})
            self._metrics.add_metric(name="EffectsRetried", unit=MetricUnit.Count, value=1)
            self._progress.remember(message.message_id, failed.completed)
            raise
        except Exception:
            logger.exception("effects failed; SQS will deliver them again", extra={"redelivered": redelivered})
            self._metrics.add_metric(name="EffectsRetried", unit=MetricUnit.Count, value=1)
            raise
        finally:
            logger.remove_keys(["conversation_id", "message_id"])
        if job.dedup_pk:  # a retry of the request that stored it now finds nothing left to do
            self._effects_done(job.dedup_pk)
        self._metrics.add_metric(name="EffectsMs", unit=MetricUnit.Milliseconds,
                                 value=(time.perf_counter() - started) * 1000)
        # from the message being stored to its effects done: the customer's wait for the bot's answer
        self._metrics.add_metric(name="EffectsLagMs", unit=MetricUnit.Milliseconds,
                                 value=max(0, ids.now_ms() - message.ts_ms))
        return "done"
