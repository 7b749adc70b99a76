"""The escalation queue's consumer and the minute sweep (thin adapters over the services).

`handle_batch` uses Powertools' BatchProcessor: a record that fails (a throttled write, a bug) is
reported in `batchItemFailures` and comes back after the visibility timeout, the rest are deleted.
A record whose body is not a valid EscalationRequest can never succeed: it is logged and dropped
rather than retried into the DLQ five times.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import ValidationError

from chalicelib.observability import metrics
from chalicelib.routing.models import EscalationRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from chalicelib.routing.service import RoutingService

logger = Logger(child=True)


def handle_batch(event: dict[str, Any], routing: RoutingService,
                 context: LambdaContext | None = None) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> str:
        try:
            request = EscalationRequest.model_validate_json(record.body)
        except ValidationError as exc:
            logger.error("malformed escalation dropped", extra={"sqs_message_id": record.message_id,
                                                                "errors": exc.errors(include_url=False)[:5]})
            metrics.add_metric(name="EscalationsMalformed", unit=MetricUnit.Count, value=1)
            return "malformed"
        started = time.perf_counter()
        try:
            outcome = routing.handle(request)
        except Exception:
            logger.exception("escalation failed; SQS will deliver it again",
                             extra={"sqs_message_id": record.message_id, "conversation_id": request.conversation_id})
            raise
        metrics.add_metric(name="EscalationRoutingMs", unit=MetricUnit.Milliseconds,
                           value=(time.perf_counter() - started) * 1000)
        metrics.add_metric(name=f"Escalations_{outcome}", unit=MetricUnit.Count, value=1)
        return outcome

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


class EscalationConsumer:
    """The escalation queue's consumer (partial batch failures are reported and retried)."""

    def __init__(self, routing: RoutingService) -> None:
        self._routing = routing

    def handle_batch(self, event: dict[str, Any], context: LambdaContext | None = None) -> PartialItemFailureResponse:
        return handle_batch(event, self._routing, context)

