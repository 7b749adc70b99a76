"""Kinesis consumer: archive validated interaction events to S3 as partitioned gzip JSON Lines.

``EventArchiver.handle(event)`` takes a Lambda Kinesis event, decodes and validates every record and
writes each shard's records, in sequence order, as *hour runs*: consecutive events of the same UTC hour
go to ``events/dt=YYYY-MM-DD/hour=HH/<shard>-<first seq of the run>.jsonl.gz`` (bytes deterministic,
gzip mtime 0). Poison records (bad base64/JSON, failed validation) go to ``errors/dt=.../`` with the
error and the raw data and never fail the batch.

Exactly once however Lambda redelivers (issue 13): a run starts at an hour change of the shard or where
the batch starts, so the same records always land under the same key. When a write fails, that run and
everything after it in the shard is reported as failed (``{"batchItemFailures": [...]}``) and not
written: Lambda resumes at the run's first record, so nothing written is redelivered. A crashed
invocation is retried whole (same keys, overwritten) or bisected: the first half rewrites the run's
object up to the middle, the second half starts a new object there. Grouping a whole batch by hour
instead stored rows twice when one hour failed: the retry rewrote the other hour under another key.
Events the producer itself sent twice (a PutRecords reply lost) share their ``event_id`` and are
deduped at query time.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .events import BaseEvent, parse_event_json, to_json

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from mypy_boto3_s3 import S3Client


class KinesisData(BaseModel):
    """The ``kinesis`` part of a Lambda Kinesis record."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    data: str
    sequence_number: str = Field(alias="sequenceNumber")
    partition_key: str | None = Field(default=None, alias="partitionKey")
    approximate_arrival_timestamp: float | None = Field(default=None, alias="approximateArrivalTimestamp")


class KinesisRecord(BaseModel):
    """One record of a Lambda Kinesis event."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    kinesis: KinesisData
    event_id: str = Field(default="", alias="eventID")
    event_source_arn: str | None = Field(default=None, alias="eventSourceARN")

    @property
    def shard_id(self) -> str:
        shard = self.event_id.split(":", 1)[0]
        return shard if shard.startswith("shardId-") else "shard-unknown"


@dataclass
class _Decoded:
    record: KinesisRecord
    event: BaseEvent


@dataclass
class _Entry:
    seq: str
    raw: object
    record: KinesisRecord | None
    decoded: _Decoded | None
    error: str | None

    @property
    def hour(self) -> tuple[str, str] | None:
        return None if self.decoded is None else (f"{self.decoded.event.ts:%Y-%m-%d}", f"{self.decoded.event.ts:%H}")


def _units(entries: list[_Entry]) -> list[list[_Entry]]:
    """A shard's entries (in sequence order) cut into hour runs; each poison record is a unit of its own."""
    units: list[list[_Entry]] = []
    for entry in entries:
        if entry.decoded is not None and units and units[-1][-1].hour == entry.hour:
            units[-1].append(entry)
        else:
            units.append([entry])
    return units


@dataclass
class ArchiveStats:
    """Counts of the last handled batch."""

    records: int = 0
    archived: int = 0
    poison: int = 0
    objects: int = 0
    failed_records: int = 0


class EventArchiver:
    """Writes a Kinesis batch of interaction events to S3 (``s3_client`` is a boto3 S3 client)."""

    def __init__(
        self,
        s3_client: S3Client,
        bucket: str,
        *,
        prefix: str = "events/",
        error_prefix: str = "errors/",
        logger: Logger | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._prefix = prefix.rstrip("/") + "/"
        self._error_prefix = error_prefix.rstrip("/") + "/"
        self._log = logger or logging.getLogger(__name__)
        self._metrics = metrics
        self.last_stats = ArchiveStats()

    def handle(self, event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Lambda entry logic; returns the partial batch response (empty list = all done)."""
        stats = ArchiveStats()
        failures: list[str] = []
        shards: dict[str, list[_Entry]] = defaultdict(list)
        for raw in event.get("Records", []):
            stats.records += 1
            record, decoded, error = self._decode(raw)
            seq = record.kinesis.sequence_number if record else (_raw_seq(raw) or "")
            shards[record.shard_id if record else "shard-unknown"].append(_Entry(seq, raw, record, decoded, error))

        for shard, entries in sorted(shards.items()):
            if all(e.seq.isdigit() for e in entries):
                entries.sort(key=lambda e: int(e.seq))
            failed = False
            for unit in _units(entries):
                if not failed:
                    failed = not self._write_unit(shard, unit, stats)
                if failed:  # this unit and every later one: Lambda resumes at the first of them
                    failures += [e.seq for e in unit if e.seq]
                    stats.failed_records += sum(e.decoded is not None for e in unit)

        self.last_stats = stats
        self._emit_metrics(stats)
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures]}

    def _write_unit(self, shard: str, unit: list[_Entry], stats: ArchiveStats) -> bool:
        """Writes one poison record or one hour run; False when S3 refused it."""
        head = unit[0]
        if head.decoded is None:
            stats.poison += 1
            return self._write_poison(head.raw, head.record, head.error or "unknown error")
        ts = head.decoded.event.ts
        key = f"{self._prefix}dt={ts:%Y-%m-%d}/hour={ts:%H}/{shard}-{head.seq}.jsonl.gz"
        body = gzip.compress(
            "".join(to_json(e.decoded.event) + "\n" for e in unit if e.decoded).encode(), compresslevel=6, mtime=0
        )
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/x-ndjson",
                ContentEncoding="gzip",
            )
        except Exception:
            self._log.exception("archive write failed", extra={"key": key, "records": len(unit)})
            return False
        stats.objects += 1
        stats.archived += len(unit)
        return True

    # ----------------------------------------------------------------- internals
    @staticmethod
    def _decode(raw: object) -> tuple[KinesisRecord | None, _Decoded | None, str | None]:
        try:
            record = KinesisRecord.model_validate(raw)
        except ValidationError as exc:
            return None, None, f"bad kinesis record: {exc}"
        try:
            data = base64.b64decode(record.kinesis.data, validate=True)
        except (binascii.Error, ValueError) as exc:
            return record, None, f"bad base64: {exc}"
        try:
            event = parse_event_json(data)
        except ValidationError as exc:
            return record, None, f"invalid event: {exc}"
        return record, _Decoded(record, event), None

    def _write_poison(self, raw: object, record: KinesisRecord | None, error: str) -> bool:
        seq = record.kinesis.sequence_number if record else (_raw_seq(raw) or "unknown")
        shard = record.shard_id if record else "shard-unknown"
        arrival = record.kinesis.approximate_arrival_timestamp if record else None
        when = datetime.fromtimestamp(arrival, UTC) if arrival else datetime.now(UTC)
        key = f"{self._error_prefix}dt={when:%Y-%m-%d}/{shard}-{seq}.json"
        body = {
            "error": error[:10000],
            "shard_id": shard,
            "sequence_number": seq,
            "approximate_arrival_timestamp": arrival,
            "raw_data": record.kinesis.data if record else None,
            "raw_record": None if record else raw,
        }
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=json.dumps(body, default=str).encode(),
                ContentType="application/json",
            )
        except Exception:
            self._log.exception("poison record write failed", extra={"key": key})
            return False
        self._log.warning("poison record archived", extra={"key": key})
        return True

    def _emit_metrics(self, stats: ArchiveStats) -> None:
        if self._metrics is None:
            return
        try:
            for name, value in (
                ("ArchivedEvents", stats.archived),
                ("PoisonRecords", stats.poison),
                ("ArchiveFailedRecords", stats.failed_records),
            ):
                if value:
                    self._metrics.add_metric(name=name, unit="Count", value=value)
        except Exception:
            self._log.exception("could not emit archive metrics")


def _raw_seq(raw: object) -> str | None:
    kinesis = raw.get("kinesis") if isinstance(raw, dict) else None
    return str(kinesis["sequenceNumber"]) if isinstance(kinesis, dict) and "sequenceNumber" in kinesis else None


def handle_kinesis_event(event: dict[str, Any], s3_client: S3Client, bucket: str) -> dict[str, Any]:
    """Convenience entry: archive one Lambda Kinesis event with a fresh ``EventArchiver``."""
    return EventArchiver(s3_client, bucket).handle(event)
