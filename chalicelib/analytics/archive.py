"""Kinesis consumer: archive validated interaction events to S3 as partitioned gzip JSON Lines.

``EventArchiver.handle(event)`` takes a Lambda Kinesis event, decodes and validates every record,
groups the events by their UTC hour and writes each group to
``events/dt=YYYY-MM-DD/hour=HH/<shard>-<first seq>-<last seq>.jsonl.gz``. Keys and bytes are
deterministic (gzip mtime 0), so a replayed batch overwrites its objects instead of duplicating
them; rows written twice by a differently-composed retry share their ``event_id`` and are deduped
at query time. Poison records (bad base64/JSON, failed validation) go to ``errors/dt=.../`` with the
error and the raw data and never fail the batch. Failed S3 writes are returned as partial batch
failures (``{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}``).
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
        failures: set[str] = set()
        groups: dict[tuple[str, str, str], list[_Decoded]] = defaultdict(list)
        for raw in event.get("Records", []):
            stats.records += 1
            record, decoded, error = self._decode(raw)
            if decoded is None:
                stats.poison += 1
                if not self._write_poison(raw, record, error or "unknown error"):
                    seq = record.kinesis.sequence_number if record else _raw_seq(raw)
                    if seq:
                        failures.add(seq)
                continue
            ts = decoded.event.ts
            groups[(decoded.record.shard_id, ts.strftime("%Y-%m-%d"), ts.strftime("%H"))].append(decoded)

        for (shard, dt, hour), items in sorted(groups.items()):
            items.sort(key=lambda d: int(d.record.kinesis.sequence_number))
            first = items[0].record.kinesis.sequence_number
            last = items[-1].record.kinesis.sequence_number
            key = f"{self._prefix}dt={dt}/hour={hour}/{shard}-{first}-{last}.jsonl.gz"
            body = gzip.compress(
                "".join(to_json(d.event) + "\n" for d in items).encode(), compresslevel=6, mtime=0
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
                self._log.exception("archive write failed", extra={"key": key, "records": len(items)})
                failures.update(d.record.kinesis.sequence_number for d in items)
                stats.failed_records += len(items)
                continue
            stats.objects += 1
            stats.archived += len(items)

        self.last_stats = stats
        self._emit_metrics(stats)
        ordered = sorted(failures, key=lambda s: int(s) if s.isdigit() else 0)
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in ordered]}

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
