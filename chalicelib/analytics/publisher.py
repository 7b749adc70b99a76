"""Publishing interaction events to Kinesis without ever failing or long-blocking the caller.

``InteractionPublisher.publish`` / ``publish_many`` take event models or dicts (a dict may carry a
raw ``customer_id``, which is replaced by its keyed pseudonym), validate and redact them, serialise
compact JSON and send them with PutRecords in batches of at most 500 records / 5 MB (partition key =
conversation id). Only the records Kinesis reports as failed are retried, with bounded exponential
backoff and an overall time budget. Nothing is raised into the caller: invalid, oversized and
undeliverable events are logged and counted, and returned in a ``PublishResult``.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .events import BaseEvent, parse_event, to_json
from .redact import DEFAULT_REDACTOR, Redactor, pseudonymise

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from aws_lambda_powertools import Logger, Metrics
    from mypy_boto3_kinesis import KinesisClient

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024  # data + partition key
_RETRYABLE_CALL_ERRORS = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "LimitExceededException",
    "KMSThrottlingException",
    "InternalFailure",
    "ServiceUnavailable",
}


@dataclass
class PublishResult:
    """Outcome of one publish call (counts of events)."""

    sent: int = 0
    failed: int = 0
    invalid: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.invalid == 0


class InteractionPublisher:
    """Validates, pseudonymises, redacts and sends events to a Kinesis stream with PutRecords."""

    def __init__(
        self,
        kinesis_client: KinesisClient,
        stream_name: str,
        pseudonym_key: str | bytes,
        *,
        metrics: Metrics | None = None,
        logger: Logger | None = None,
        redactor: Redactor | None = None,
        max_attempts: int = 4,
        base_backoff: float = 0.05,
        max_backoff: float = 0.5,
        time_budget: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not pseudonym_key:
            raise ValueError("pseudonym_key must not be empty")
        self._client = kinesis_client
        self._stream = stream_name
        self._key = pseudonym_key
        self._metrics = metrics
        self._log = logger or logging.getLogger(__name__)
        self._redactor = redactor or DEFAULT_REDACTOR
        self._max_attempts = max(1, max_attempts)
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._time_budget = time_budget
        self._sleep = sleep
        self._clock = clock

    # ----------------------------------------------------------------- public API
    def publish(self, event: BaseEvent | Mapping[str, Any]) -> PublishResult:
        """Publish one event. Never raises."""
        return self.publish_many([event])

    def publish_many(self, events: Iterable[BaseEvent | Mapping[str, Any]]) -> PublishResult:
        """Publish events in PutRecords batches; failed records are retried. Never raises."""
        result = PublishResult()
        records: list[dict[str, Any]] = []
        try:
            records = self._prepare(events, result)
            deadline = self._clock() + self._time_budget
            for batch in self._batches(records):
                self._send(batch, result, deadline)
        except Exception as exc:  # defensive: the customer path must never see an exception
            self._log.exception("analytics publish failed unexpectedly")
            result.errors.append(f"unexpected: {type(exc).__name__}")
            result.failed = max(result.failed, len(records) - result.sent)
        self._emit_metrics(result)
        return result

    def pseudonymise(self, customer_id: str) -> str:
        """The pseudonym this publisher writes for ``customer_id``."""
        return pseudonymise(customer_id, self._key)

    # ----------------------------------------------------------------- internals
    def _to_event(self, item: BaseEvent | Mapping[str, Any]) -> BaseEvent:
        data = item.model_dump() if isinstance(item, BaseEvent) else dict(item)
        raw_id = data.pop("customer_id", None)
        if raw_id is not None:
            data["customer_pid"] = self.pseudonymise(str(raw_id))
        event = parse_event(data)
        updates = {
            name: self._redactor(value)
            for name in event.free_text_fields
            if isinstance(value := getattr(event, name), str)
        }
        return event.model_copy(update=updates) if updates else event

    def _prepare(self, events: Iterable[Any], result: PublishResult) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for item in events:
            try:
                event = self._to_event(item)
            except (ValidationError, ValueError, TypeError) as exc:
                result.invalid += 1
                result.errors.append(f"invalid event: {type(exc).__name__}")
                # Validation messages may echo input values: log only locations and types.
                details = exc.errors(include_input=False) if isinstance(exc, ValidationError) else str(exc)
                self._log.warning("analytics event rejected", extra={"details": str(details)[:2000]})
                continue
            data = to_json(event).encode()
            key = event.conversation_id
            if len(data) + len(key.encode()) > MAX_RECORD_BYTES:
                result.invalid += 1
                result.errors.append("record too large")
                self._log.warning("analytics event too large", extra={"event_id": event.event_id})
                continue
            records.append({"Data": data, "PartitionKey": key})
        return records

    @staticmethod
    def _batches(records: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        size = 0
        for rec in records:
            rec_size = len(rec["Data"]) + len(rec["PartitionKey"].encode())
            if batch and (len(batch) >= MAX_RECORDS_PER_CALL or size + rec_size > MAX_BYTES_PER_CALL):
                yield batch
                batch, size = [], 0
            batch.append(rec)
            size += rec_size
        if batch:
            yield batch

    def _backoff(self, attempt: int, deadline: float) -> bool:
        """Sleep before retry ``attempt`` (1-based); False when the time budget does not allow it."""
        delay = min(self._max_backoff, self._base_backoff * 2 ** (attempt - 1))
        delay *= 0.5 + random.random() / 2  # jitter in [delay/2, delay]
        if self._clock() + delay > deadline:
            return False
        self._sleep(delay)
        return True

    def _send(self, batch: list[dict[str, Any]], result: PublishResult, deadline: float) -> None:
        pending = batch
        for attempt in range(1, self._max_attempts + 1):
            if attempt > 1 and not self._backoff(attempt - 1, deadline):
                break
            result.calls += 1
            try:
                response = self._client.put_records(StreamName=self._stream, Records=pending)  # type: ignore[arg-type]
            except Exception as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
                self._log.warning("PutRecords call failed", extra={"error_code": code, "attempt": attempt})
                if code in _RETRYABLE_CALL_ERRORS or _is_transient(exc):
                    continue
                result.errors.append(f"PutRecords: {code}")
                break
            entries = response.get("Records", [])
            if not response.get("FailedRecordCount"):
                result.sent += len(pending)
                return
            retry = [rec for rec, entry in zip(pending, entries, strict=False) if entry.get("ErrorCode")]
            # Entries beyond the returned list (should not happen) are retried as well.
            retry.extend(pending[len(entries) :])
            result.sent += len(pending) - len(retry)
            codes = sorted({str(e["ErrorCode"]) for e in entries if e.get("ErrorCode")})
            self._log.info(
                "PutRecords partial failure", extra={"failed": len(retry), "codes": codes, "attempt": attempt}
            )
            pending = retry
        result.failed += len(pending)
        result.errors.append(f"{len(pending)} records not delivered")
        self._log.error("analytics events dropped after retries", extra={"count": len(pending)})

    def _emit_metrics(self, result: PublishResult) -> None:
        if self._metrics is None:
            return
        try:
            for name, value in (
                ("AnalyticsEventsPublished", result.sent),
                ("AnalyticsEventsFailed", result.failed),
                ("AnalyticsEventsInvalid", result.invalid),
            ):
                if value:
                    self._metrics.add_metric(name=name, unit="Count", value=value)
        except Exception:
            self._log.exception("could not emit analytics metrics")


def _is_transient(exc: Exception) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError

    return isinstance(exc, BotoConnectionError | ReadTimeoutError)
