"""InteractionPublisher against moto Kinesis, plus partial-failure retry and never-raise behaviour."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib.analytics.publisher import InteractionPublisher

from ._support import KEY, ev, pid

STREAM = "interactions"


def msg(conv: str, i: int, **extra: Any) -> dict[str, Any]:
    return ev(
        "message_in",
        conv,
        i,
        sender_type="customer",
        message_id=f"{conv}-m{i}",
        seq=i,
        text_length=10,
        **extra,
    )


def read_all(client: Any) -> list[tuple[str, dict]]:
    out = []
    for shard in client.list_shards(StreamName=STREAM)["Shards"]:
        it = client.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            resp = client.get_records(ShardIterator=it, Limit=10000)
            out += [(r["PartitionKey"], json.loads(r["Data"])) for r in resp["Records"]]
            if not resp["Records"]:
                break
            it = resp["NextShardIterator"]
    return out


@pytest.fixture
def kinesis(aws_env: None):
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=2)
        yield client


def test_publish_to_moto_pseudonymises_and_redacts(kinesis: Any) -> None:
    pub = InteractionPublisher(kinesis, STREAM, KEY)
    raw = {**msg("conv-1", 1), "customer_id": "alice-123"}
    del raw["customer_pid"]
    csat = ev("csat", "conv-2", 5, score=1, comment="ring 13812345678")
    result = pub.publish_many([raw, csat])
    assert result.ok and result.sent == 2 and result.calls == 1
    records = read_all(kinesis)
    by_type = {data["event_type"]: (key, data) for key, data in records}
    key, data = by_type["message_in"]
    assert key == "conv-1" and data["customer_pid"] == pid("alice-123")
    assert "alice-123" not in json.dumps(records)
    assert by_type["csat"][1]["comment"] == "ring [PHONE]"


def test_batches_respect_500_records(kinesis: Any) -> None:
    pub = InteractionPublisher(kinesis, STREAM, KEY)
    result = pub.publish_many(msg(f"c{i % 7}", i) for i in range(1203))
    assert result.sent == 1203 and result.calls == 3
    assert len(read_all(kinesis)) == 1203


def test_invalid_events_counted_not_raised(kinesis: Any) -> None:
    metrics = RecordingMetrics()
    pub = InteractionPublisher(kinesis, STREAM, KEY, metrics=metrics)
    result = pub.publish_many([msg("c", 1), {**msg("c", 2), "seq": -1}, {"nonsense": True}, "not a dict"])
    assert result.sent == 1 and result.invalid == 3 and not result.ok
    assert metrics.values == {"AnalyticsEventsPublished": 1, "AnalyticsEventsInvalid": 3}


class RecordingMetrics:
    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.values[name] = self.values.get(name, 0) + value


class FlakyKinesis:
    """PutRecords reporting failures for chosen records on the first ``fail_rounds`` calls."""

    def __init__(self, fail_rounds: int, fail_every: int = 2) -> None:
        self.calls: list[list[dict]] = []
        self.fail_rounds = fail_rounds
        self.fail_every = fail_every
        self.delivered: list[bytes] = []

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        self.calls.append(Records)
        failing = len(self.calls) <= self.fail_rounds
        entries = []
        for i, rec in enumerate(Records):
            if failing and i % self.fail_every == 0:
                entries.append(
                    {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"}
                )
            else:
                self.delivered.append(rec["Data"])
                entries.append({"SequenceNumber": str(len(self.delivered)), "ShardId": "shardId-0"})
        return {"FailedRecordCount": sum("ErrorCode" in e for e in entries), "Records": entries}


def test_retries_only_failed_records() -> None:
    client = FlakyKinesis(fail_rounds=1)
    sleeps: list[float] = []
    pub = InteractionPublisher(client, STREAM, KEY, sleep=sleeps.append)
    result = pub.publish_many(msg("c", i) for i in range(10))
    assert result.ok and result.sent == 10 and result.calls == 2
    assert len(client.calls[0]) == 10 and len(client.calls[1]) == 5  # only the failed half resent
    assert len(client.delivered) == 10 and len(set(client.delivered)) == 10
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 0.05


def test_gives_up_after_bounded_attempts() -> None:
    client = FlakyKinesis(fail_rounds=100, fail_every=1)
    sleeps: list[float] = []
    metrics = RecordingMetrics()
    pub = InteractionPublisher(client, STREAM, KEY, max_attempts=3, sleep=sleeps.append, metrics=metrics)
    result = pub.publish_many(msg("c", i) for i in range(4))
    assert result.sent == 0 and result.failed == 4 and result.calls == 3 and len(sleeps) == 2
    assert sleeps[1] >= sleeps[0] / 2 and all(s <= 0.5 for s in sleeps)
    assert metrics.values == {"AnalyticsEventsFailed": 4}


def test_time_budget_bounds_blocking() -> None:
    client = FlakyKinesis(fail_rounds=100, fail_every=1)
    now = [0.0]
    pub = InteractionPublisher(
        client,
        STREAM,
        KEY,
        max_attempts=10,
        base_backoff=1.0,
        max_backoff=5.0,
        time_budget=1.0,
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        clock=lambda: now[0],
    )
    result = pub.publish(msg("c", 1))
    assert result.failed == 1 and now[0] <= 1.0 and result.calls <= 2


def test_stubbed_client_throttle_then_success(aws_env: None) -> None:
    from botocore.stub import ANY, Stubber

    client = boto3.client("kinesis", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("put_records", service_error_code="ProvisionedThroughputExceededException")
    stub.add_response(
        "put_records",
        {
            "FailedRecordCount": 1,
            "Records": [
                {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "x"},
            ],
        },
        {"StreamName": STREAM, "Records": ANY},
    )
    stub.add_response(
        "put_records", {"Records": [{"SequenceNumber": "2", "ShardId": "shardId-000000000000"}]}
    )
    with stub:
        result = InteractionPublisher(client, STREAM, KEY, sleep=lambda s: None).publish_many(
            [msg("c", 1), msg("c", 2)]
        )
    stub.assert_no_pending_responses()
    assert result.ok and result.sent == 2 and result.calls == 3


def test_non_retryable_error_is_swallowed() -> None:
    class Broken:
        def put_records(self, **kwargs: Any) -> dict:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "PutRecords")

    result = InteractionPublisher(Broken(), STREAM, KEY, sleep=lambda s: None).publish(msg("c", 1))
    assert result.failed == 1 and result.calls == 1


def test_unexpected_exception_never_escapes() -> None:
    class Weird:
        def put_records(self, **kwargs: Any) -> dict:
            return {"FailedRecordCount": "garbage", "Records": None}

    result = InteractionPublisher(Weird(), STREAM, KEY).publish(msg("c", 1))
    assert not result.ok
