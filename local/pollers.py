"""Event source mappings for the local stack: SQS and Kinesis pollers and the scheduler.

They hand records to the app's handlers the way Lambda does: SQS batches with
ReportBatchItemFailures honoured (only successes are deleted; failures reappear after the
visibility timeout and end in the DLQ through the queue's redrive policy), Kinesis batches per
shard in order with retries from the first failed record, and scheduled events on their rate or
cron expression. Several batches may run at once, as several Lambda instances would.
"""

from __future__ import annotations

import base64
import calendar
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from chalice.app import Cron, KinesisEventConfig, Rate, ScheduledEventConfig, SQSEventConfig

from local.lambda_runtime import invoke

log = logging.getLogger("local.pollers")

KINESIS_MAX_RETRIES = 3


class Pollers:
    def __init__(self, app_module: Any, session: Any, stage: str, concurrency: int = 4,
                 idle_wait_seconds: int = 1, timeout_for: Any = None) -> None:
        self._app_module = app_module
        self._timeout_for = timeout_for or (lambda name: 30)
        self._session = session
        self._stage = stage
        self._concurrency = concurrency
        self._idle_wait = idle_wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._region = session.region_name

    def start(self) -> list[str]:
        """Start one poller per event source; return a description of each."""
        started = []
        for source in self._app_module.app.event_sources:
            handler = getattr(self._app_module, source.name)
            if isinstance(source, SQSEventConfig) and source.queue:
                target, label = self._poll_sqs, f"sqs:{source.queue} -> {source.name}"
            elif isinstance(source, KinesisEventConfig):
                target, label = self._poll_kinesis, f"kinesis:{source.stream} -> {source.name}"
            elif isinstance(source, ScheduledEventConfig):
                target, label = self._schedule, f"schedule:{_expression(source)} -> {source.name}"
            else:
                log.warning("event source %s is not emulated locally", type(source).__name__)
                continue
            thread = threading.Thread(target=self._guard, args=(target, source, handler), name=label, daemon=True)
            thread.start()
            self._threads.append(thread)
            started.append(label)
        return started

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def log_failure(self, message: str, *args: Any) -> None:
        """A failure with its traceback, except while stopping (Ctrl-C): then moto is going away too."""
        if self._stop.is_set():
            log.info(message + " (while stopping)", *args)
        else:
            log.exception(message, *args)

    def _guard(self, target: Any, source: Any, handler: Any) -> None:
        while not self._stop.is_set():
            try:
                target(source, handler)
                return
            except Exception:
                self.log_failure("poller %s crashed; restarting", source.name)
                self._stop.wait(1)

    def _function_name(self, source: Any) -> str:
        return f"cs-platform-{self._stage}-{source.name}"

    def _invoke(self, handler: Any, event: dict[str, Any], source: Any) -> Any:
        """With the function's configured timeout, so handlers that budget their time see the real one."""
        return invoke(handler, event, self._function_name(source), timeout_seconds=self._timeout_for(source.name))

    # -- SQS -------------------------------------------------------------------------------------

    def _poll_sqs(self, source: SQSEventConfig, handler: Any) -> None:
        sqs = self._session.client("sqs")
        url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        workers = source.maximum_concurrency or self._concurrency
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sqs-{source.name}") as pool:
            slots = threading.Semaphore(workers)
            while not self._stop.is_set():
                slots.acquire()
                if self._stop.is_set():
                    return
                messages = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10), WaitTimeSeconds=self._idle_wait,
                    AttributeNames=["All"], MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not messages:
                    slots.release()
                    continue
                future = pool.submit(self._run_sqs_batch, sqs, url, arn, source, handler, messages)
                future.add_done_callback(lambda _: slots.release())

    def _run_sqs_batch(self, sqs: Any, url: str, arn: str, source: SQSEventConfig, handler: Any,
                       messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(m, arn, self._region) for m in messages]}
        try:
            result = self._invoke(handler, event, source)
        except Exception:
            self.log_failure("SQS handler %s failed; the batch returns after its visibility timeout", source.name)
            return
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])

    # -- Kinesis ---------------------------------------------------------------------------------

    def _poll_kinesis(self, source: KinesisEventConfig, handler: Any) -> None:
        kinesis = self._session.client("kinesis")
        summary = kinesis.describe_stream_summary(StreamName=source.stream)["StreamDescriptionSummary"]
        arn = summary["StreamARN"]
        shards = kinesis.list_shards(StreamName=source.stream)["Shards"]
        with ThreadPoolExecutor(max_workers=max(1, len(shards))) as pool:
            for shard in shards:
                pool.submit(self._poll_shard, kinesis, arn, source, handler, shard["ShardId"])

    def _poll_shard(self, kinesis: Any, arn: str, source: KinesisEventConfig, handler: Any, shard_id: str) -> None:
        # A fresh local stream: start at its beginning so nothing written before start-up is missed.
        iterator = kinesis.get_shard_iterator(StreamARN=arn, ShardId=shard_id,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        pending: list[dict[str, Any]] = []
        retries = 0
        while not self._stop.is_set():
            if not pending:
                page = kinesis.get_records(ShardIterator=iterator, Limit=source.batch_size, StreamARN=arn)
                iterator = page["NextShardIterator"]
                pending = page["Records"]
                if not pending:
                    self._stop.wait(self._idle_wait)
                    continue
            event = {"Records": [_kinesis_record(r, arn, shard_id, self._region) for r in pending]}
            try:
                result = self._invoke(handler, event, source)
                failed = [f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])]
            except Exception:
                self.log_failure("Kinesis handler %s failed", source.name)
                failed = [pending[0]["SequenceNumber"]]
            if not failed:
                pending, retries = [], 0
                continue
            retries += 1
            if retries > KINESIS_MAX_RETRIES:
                log.error("dropping %d Kinesis records after %d retries (configure an on-failure destination "
                          "in AWS)", len(pending), KINESIS_MAX_RETRIES)
                pending, retries = [], 0
                continue
            first = min(failed, key=int)
            pending = [r for r in pending if int(r["SequenceNumber"]) >= int(first)]
            self._stop.wait(min(2**retries * 0.1, 2))

    # -- schedules -------------------------------------------------------------------------------

    def _schedule(self, source: ScheduledEventConfig, handler: Any) -> None:
        expression = source.schedule_expression
        last_minute = None
        next_run = time.time() + _rate_seconds(expression) if isinstance(expression, Rate) else None
        while not self._stop.wait(1):
            now = datetime.now(tz=UTC)
            if isinstance(expression, Rate):
                if time.time() < (next_run or 0):
                    continue
                next_run = time.time() + _rate_seconds(expression)
            else:
                minute = now.replace(second=0, microsecond=0)
                if minute == last_minute or not _cron_matches(expression, now):
                    continue
                last_minute = minute
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                     "source": "aws.events", "account": "123456789012", "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "region": self._region, "detail": {},
                     "resources": [f"arn:aws:events:{self._region}:123456789012:rule/{source.name}"]}
            try:
                self._invoke(handler, event, source)
            except Exception:
                self.log_failure("scheduled handler %s failed", source.name)


def sqs_record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    """A received SQS message as Lambda's event source mapping hands it to the function."""
    attributes = message.get("MessageAttributes") or {}
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {k: {"stringValue": v.get("StringValue"), "binaryValue": v.get("BinaryValue"),
                                  "stringListValues": [], "binaryListValues": [], "dataType": v["DataType"]}
                              for k, v in attributes.items()},
        "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": region,
    }


def _kinesis_record(record: dict[str, Any], arn: str, shard_id: str, region: str) -> dict[str, Any]:
    arrival = record.get("ApproximateArrivalTimestamp")
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"], "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": arrival.timestamp() if arrival else time.time()},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/local",
        "awsRegion": region, "eventSourceARN": arn,
    }


def _expression(source: ScheduledEventConfig) -> str:
    expression = source.schedule_expression
    return expression if isinstance(expression, str) else expression.to_string()


def _rate_seconds(rate: Rate) -> float:
    unit = {Rate.MINUTES: 60, Rate.HOURS: 3600, Rate.DAYS: 86400}[rate.unit]
    return rate.value * unit


def _cron_matches(cron: Cron | str, now: datetime) -> bool:
    """Minute, hour, day-of-month, month and day-of-week fields of an EventBridge cron (UTC)."""
    if isinstance(cron, str):
        fields = cron.strip().removeprefix("cron(").removesuffix(")").split()
    else:
        fields = [str(cron.minutes), str(cron.hours), str(cron.day_of_month), str(cron.month), str(cron.day_of_week)]
    minute, hour, dom, month, dow = fields[:5]
    weekday = (now.weekday() + 1) % 7 + 1  # EventBridge: 1 = Sunday
    day_names = {name.upper(): i + 1 for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
    month_names = {calendar.month_abbr[i].upper(): i for i in range(1, 13)}
    return (_field(minute, now.minute, {}) and _field(hour, now.hour, {}) and _field(dom, now.day, {})
            and _field(month, now.month, month_names) and _field(dow, weekday, day_names))


def _field(spec: str, value: int, names: dict[str, int]) -> bool:
    if spec in ("*", "?"):
        return True
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", ""):
            low, high = 0, 10**6
        elif "-" in part:
            a, b = part.split("-")
            low, high = names.get(a.upper()) or int(a), names.get(b.upper()) or int(b)
        else:
            low = high = names.get(part.upper()) or int(part)
            if step > 1:
                high = 10**6
        if low <= value <= high and (value - low) % step == 0:
            return True
    return False
