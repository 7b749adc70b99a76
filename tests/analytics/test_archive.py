"""EventArchiver with moto S3: partitions, deterministic keys on replay, poison records, partial failures."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

from chalicelib.analytics.archive import EventArchiver, handle_kinesis_event

from ._support import ev

BUCKET = "analytics-archive"  # conftest.ARCHIVE_BUCKET: the `s3` fixture creates it
SHARD = "shardId-000000000001"


def kinesis_event(payloads: list[Any], start_seq: int = 1000) -> dict[str, Any]:
    records = []
    for i, payload in enumerate(payloads):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        seq = str(49590338271490256608559692538361571095921575989136588898 + start_seq + i)
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "p",
                    "sequenceNumber": seq,
                    "data": base64.b64encode(raw).decode(),
                    "approximateArrivalTimestamp": 1714986000.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{SHARD}:{seq}",
                "eventName": "aws:kinesis:record",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/interactions",
            }
        )
    return {"Records": records}


def msg(i: int, minutes: float) -> dict[str, Any]:
    return ev(
        "message_in", f"c{i % 3}", minutes, sender_type="customer", message_id=f"m{i}", seq=i, text_length=5
    )


def objects(s3: Any, prefix: str = "") -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    return out


def lines(body: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]


def test_partitions_and_content(s3: Any) -> None:
    # T0 = 2024-05-06 09:00 UTC; minutes 0..50 in hour 09, 70 in hour 10, +1 day in the next dt.
    batch = kinesis_event([msg(0, 0), msg(1, 50), msg(2, 70), msg(3, 24 * 60 + 5)])
    assert handle_kinesis_event(batch, s3, BUCKET) == {"batchItemFailures": []}
    stored = objects(s3)
    prefixes = sorted(key.rsplit("/", 1)[0] for key in stored)
    assert prefixes == [
        "events/dt=2024-05-06/hour=09",
        "events/dt=2024-05-06/hour=10",
        "events/dt=2024-05-07/hour=09",
    ]
    hour9 = next(v for k, v in stored.items() if "dt=2024-05-06/hour=09" in k)
    rows = lines(hour9)
    assert [r["message_id"] for r in rows] == ["m0", "m1"]
    assert all(r["ts"].endswith("Z") and len(r["event_id"]) == 32 for r in rows)
    key = next(k for k in stored if "hour=09" in k and "05-06" in k)
    seqs = [r["kinesis"]["sequenceNumber"] for r in batch["Records"]]
    assert key.endswith(f"{SHARD}-{seqs[0]}.jsonl.gz")  # an hour run is named by its first record


def test_replay_overwrites_instead_of_duplicating(s3: Any) -> None:
    batch = kinesis_event([msg(i, i * 7) for i in range(20)])
    archiver = EventArchiver(s3, BUCKET)
    archiver.handle(batch)
    first = objects(s3)
    archiver.handle(batch)
    second = objects(s3)
    assert first == second  # same keys, byte-identical bodies
    assert sum(len(lines(b)) for b in second.values()) == 20


def test_poison_records_kept_and_batch_not_failed(s3: Any) -> None:
    bad_json = b"{not json"
    bad_event = ev("csat", "c1", 1, score=9)  # score out of range
    batch = kinesis_event([msg(0, 0), bad_json, bad_event, msg(1, 1)])
    archiver = EventArchiver(s3, BUCKET)
    assert archiver.handle(batch) == {"batchItemFailures": []}
    assert archiver.last_stats.poison == 2 and archiver.last_stats.archived == 2
    errors = objects(s3, "errors/")
    assert len(errors) == 2 and all(k.startswith("errors/dt=2024-05-06/") for k in errors)
    docs = sorted((json.loads(v) for v in errors.values()), key=lambda d: d["sequence_number"])
    assert "json" in docs[0]["error"].lower()
    assert base64.b64decode(docs[0]["raw_data"]) == bad_json
    assert "score" in docs[1]["error"] and json.loads(base64.b64decode(docs[1]["raw_data"]))["score"] == 9
    assert sum(len(lines(b)) for b in objects(s3, "events/").values()) == 2


class FailingPuts:
    """Wraps an S3 client and fails put_object for keys containing ``fragment``."""

    def __init__(self, inner: Any, fragment: str) -> None:
        self.inner, self.fragment = inner, fragment

    def put_object(self, **kwargs: Any) -> Any:
        if self.fragment in kwargs["Key"]:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "SlowDown", "Message": "503"}}, "PutObject")
        return self.inner.put_object(**kwargs)


def test_s3_failure_reported_as_partial_batch_failure(s3: Any) -> None:
    batch = kinesis_event([msg(0, 0), msg(1, 61), msg(2, 62)])
    seqs = [r["kinesis"]["sequenceNumber"] for r in batch["Records"]]
    result = EventArchiver(FailingPuts(s3, "hour=10"), BUCKET).handle(batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": seqs[1]}, {"itemIdentifier": seqs[2]}]}
    assert list(objects(s3)) and all("hour=09" in k for k in objects(s3))


def test_poison_write_failure_is_not_lost(s3: Any) -> None:
    batch = kinesis_event([b"garbage", msg(0, 0)])
    result = EventArchiver(FailingPuts(s3, "errors/"), BUCKET).handle(batch)
    # Lambda resumes at the poison record: what follows it is reported (and left unwritten) with it
    assert result == {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]}
                                            for r in batch["Records"]]}
    assert objects(s3, "events/") == {}


def test_throughput_with_moto(s3: Any) -> None:
    n = 5000
    batch = kinesis_event([msg(i, i * 0.05) for i in range(n)])
    start = time.perf_counter()
    archiver = EventArchiver(s3, BUCKET)
    assert archiver.handle(batch) == {"batchItemFailures": []}
    elapsed = time.perf_counter() - start
    assert archiver.last_stats.archived == n
    print(f"archive throughput with moto: {n / elapsed:,.0f} events/s ({elapsed:.2f}s for {n})")
