"""Helpers for tests that drive events through the real wiring: read the stream, run the archive handler."""

from __future__ import annotations

import base64
import gzip
import json
import os
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from chalicelib import services as composition
from local.lambda_runtime import LambdaContext
from local.pollers import _kinesis_record


def stream_records(session: Any, kinesis: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """Every record on the interactions stream, shaped as Lambda's Kinesis event records (read with the
    ``kinesis`` client if given: the fault suites read moto directly, not through their flaky network)."""
    kinesis = kinesis or session.client("kinesis")
    name = os.environ["INTERACTIONS_STREAM_NAME"]
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    records = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        records += [_kinesis_record(r, arn, shard["ShardId"], "us-east-1") for r in page["Records"]]
    return arn, records


def stream_events(session: Any, event_type: str | None = None) -> list[dict[str, Any]]:
    """The interaction events on the stream (a record's data may be gzipped JSON Lines), of ``event_type`` if given."""
    out = []
    for record in stream_records(session)[1]:
        data = base64.b64decode(record["kinesis"]["data"])
        for line in (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode().splitlines():
            event = json.loads(line)
            if event_type is None or event.get("event_type") == event_type:
                out.append(event)
    return out


def archive(app_module: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Invoke the app's Kinesis consumer as Lambda would."""
    return app_module.archive_interactions({"Records": records}, LambdaContext("cs-platform-local-archive"))


class ShardConsumer:
    """Lambda's Kinesis event source mapping for one shard, with ReportBatchItemFailures and
    BisectBatchOnFunctionError, over that shard's records (Lambda-shaped, in sequence order).

    - a returned ``batchItemFailures`` checkpoints just before the lowest failed sequence number, and the
      next batch is read afresh from there (its composition may differ: batch sizes vary with the seed);
    - an invocation that raises (a crash or a timeout) is bisected: the first half, then the second, each
      retried and bisected again as needed;
    - more than ``max_invocations`` invocations fail the test (Lambda would drop the records).
    """

    def __init__(self, records: list[dict[str, Any]], handler: Callable[[dict[str, Any]], Any], *,
                 batch_size: int = 100, seed: int = 13, max_invocations: int = 500) -> None:
        self._records = records
        self._handler = handler
        self._batch_size = batch_size
        self._rng = random.Random(seed)
        self._max = max_invocations
        self.stats: Counter[str] = Counter()

    def run(self) -> Counter[str]:
        position = 0
        while position < len(self._records):
            size = self._rng.randint(max(1, self._batch_size // 2), self._batch_size)
            position = self._deliver(position, min(len(self._records), position + size))
        return self.stats

    def _deliver(self, start: int, end: int) -> int:
        """Hands ``records[start:end]`` to the function until done; returns where the next batch starts."""
        while True:
            if self.stats["invocations"] >= self._max:
                raise AssertionError(f"records would be dropped after {self._max} invocations: {self.stats}")
            self.stats["invocations"] += 1
            self.stats["records_delivered"] += end - start
            batch = self._records[start:end]
            try:
                result = self._handler({"Records": batch})
            except BaseException as exc:  # a crashed or timed-out invocation, as Lambda sees it
                if isinstance(exc, AssertionError):
                    raise
                self.stats["function_errors"] += 1
                if end - start > 1:
                    self.stats["bisections"] += 1
                    middle = (start + end) // 2
                    resume = self._deliver(start, middle)
                    return resume if resume < middle else self._deliver(middle, end)
                continue
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            if not failed:
                return end
            self.stats["partial_failures"] += 1
            self.stats["failed_items_reported"] += len(failed)
            return next(start + i for i, r in enumerate(batch) if r["kinesis"]["sequenceNumber"] in failed)


def shards_of(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Lambda-shaped records by shard, in sequence order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        out.setdefault(record["eventID"].split(":", 1)[0], []).append(record)
    return {shard: sorted(rs, key=lambda r: int(r["kinesis"]["sequenceNumber"])) for shard, rs in out.items()}


def bucket_objects(session: Any, prefix: str = "", s3: Any = None) -> dict[str, bytes]:
    """The analytics bucket's objects under ``prefix`` (read with the ``s3`` client if given)."""
    s3 = s3 or session.client("s3")
    bucket = composition.services().bucket_name
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def archived_events(objects: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for key, body in objects.items() if key.endswith(".jsonl.gz")
            for line in gzip.decompress(body).decode().splitlines()]


def write_synthetic_archive(root: Any, start: Any, weeks: int, seed: int = 7, level: float = 6.0) -> int:
    """A seasonal archive (afternoon peaks, quiet weekends, slight growth) under ``root/events/dt=…``.

    Every conversation: message_in, bot_decision, message_out; a third are handed to an agent
    (handoff, queue_wait, assignment, agent_reply, agent resolution), the rest resolved by the bot;
    some leave a CSAT score. Returns the number of conversations written.
    """
    import math
    import random
    from datetime import timedelta
    from pathlib import Path

    from chalicelib.analytics.events import parse_event, to_json
    from chalicelib.analytics.redact import pseudonymise

    rng = random.Random(seed)
    by_day: dict[str, list[str]] = {}
    conversations = 0
    for h in range(weeks * 168):
        hour = start + timedelta(hours=h)
        daily = 0.3 + 2.0 * math.exp(-((hour.hour - 14) ** 2) / 18)
        weekly = 0.6 if hour.weekday() >= 5 else 1.0
        mean = level * daily * weekly * (1 + 0.02 * h / 168)
        count = _poisson(rng, mean)
        for n in range(count):
            conversations += 1
            conv = f"conv_{h:05d}_{n:03d}"
            t0 = hour + timedelta(seconds=rng.uniform(0, 3000))
            common = {"conversation_id": conv, "customer_pid": pseudonymise(f"c{rng.randrange(5000)}", "k"),
                      "channel": rng.choice(["app", "app", "wechat", "whatsapp", "web"])}
            intent = rng.choice(["order_status", "refund", "delivery", "account", "payment"])
            handoff = rng.random() < 0.33

            def at(seconds: float, common: dict[str, Any] = common, t0: Any = t0, **fields: Any) -> dict[str, Any]:
                return {**common, "ts": (t0 + timedelta(seconds=seconds)).isoformat(), **fields}

            events = [
                at(0, event_type="message_in", sender_type="customer", message_id=f"{conv}-m1", seq=1,
                   text_length=30),
                at(1, event_type="bot_decision", message_id=f"{conv}-m1", intent=intent, confidence=0.8,
                   action="handoff" if handoff else "answer"),
                at(1.5, event_type="message_out", sender_type="bot", message_id=f"{conv}-m2", seq=2,
                   text_length=80),
            ]
            if handoff:
                wait, handle = rng.uniform(5, 120), rng.uniform(120, 600)
                events += [
                    at(2, event_type="handoff", reason="customer asked for a human"),
                    at(2 + wait, event_type="queue_wait", wait_seconds=wait),
                    at(2 + wait, event_type="assignment", agent_id="agent-1", wait_seconds=wait),
                    at(10 + wait, event_type="agent_reply", agent_id="agent-1", message_id=f"{conv}-m3",
                       first_response=True),
                    at(2 + wait + handle, event_type="resolution", resolved_by="agent", agent_id="agent-1",
                       handle_seconds=handle),
                ]
            else:
                events.append(at(60, event_type="resolution", resolved_by="bot", handle_seconds=60))
            if rng.random() < 0.3:
                events.append(at(900, event_type="csat", score=rng.choice([3, 4, 5, 5])))
            day = t0.strftime("%Y-%m-%d")
            by_day.setdefault(day, []).extend(to_json(parse_event(e)) for e in events)
    for day, lines in by_day.items():
        path = Path(root) / "events" / f"dt={day}" / "hour=00" / "synthetic.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return conversations


def _poisson(rng: Any, mean: float) -> int:
    import math

    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
