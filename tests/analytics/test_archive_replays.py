"""Issue 13: the archive holds every event of a shard exactly once however Lambda redelivers its batches.

Lambda's Kinesis event source mapping (``analytics_flow.ShardConsumer``) re-reads a shard from the lowest
failed sequence number after a partial failure (a fresh batch, possibly composed differently) and bisects a
batch whose invocation crashed. A batch whose events span two hours, interleaved (late events), is the case
that used to store rows twice: the hour that was written is written again, under another key, by the retry.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from analytics_flow import ShardConsumer
from botocore.exceptions import ClientError

from chalicelib.analytics.archive import EventArchiver

from .test_archive import BUCKET, kinesis_event, lines, msg, objects


class LambdaTimeout(BaseException):
    """The invocation is killed (a timeout, out of memory): nothing after this point of the handler runs."""


class FlakyPuts:
    """An S3 client whose PutObject fails (after botocore's retries) for the n-th matching keys, or whose
    invocation dies just after the n-th object was written."""

    def __init__(self, inner: Any, *, fail: dict[str, set[int]] | None = None, crash_after: set[int] = frozenset()
                 ) -> None:
        self.inner, self.fail, self.crash_after = inner, fail or {}, crash_after
        self.seen: Counter[str] = Counter()
        self.written = 0

    def put_object(self, **kwargs: Any) -> Any:
        for fragment, which in self.fail.items():
            if fragment in kwargs["Key"]:
                self.seen[fragment] += 1
                if self.seen[fragment] in which:
                    raise ClientError({"Error": {"Code": "SlowDown", "Message": "503"}}, "PutObject")
        answer = self.inner.put_object(**kwargs)
        self.written += 1
        if self.written in self.crash_after:
            raise LambdaTimeout(f"killed after writing object {self.written}")
        return answer


def _interleaved(n: int) -> dict[str, Any]:
    """n events on one shard, hours 09 and 10 interleaved: late 09 events arrive among the first of 10."""
    return kinesis_event([msg(i, 55 + i % 4 if i % 3 == 0 else 61 + i % 5) for i in range(n)])


def _archived(s3: Any) -> Counter[str]:
    return Counter(row["message_id"] for body in objects(s3, "events/").values() for row in lines(body))


def _run(s3_client: Any, event: dict[str, Any], batch_size: int, seed: int = 13) -> Counter[str]:
    archiver = EventArchiver(s3_client, BUCKET)
    return ShardConsumer(event["Records"], archiver.handle, batch_size=batch_size, seed=seed).run()


def _assert_once(s3: Any, n: int) -> None:
    archived = _archived(s3)
    twice = sorted(m for m, c in archived.items() if c > 1)
    lost = sorted({f"m{i}" for i in range(n)} - set(archived))
    assert (twice, lost) == ([], []), f"{len(twice)} of {n} rows stored twice, {len(lost)} lost"


def test_a_failed_hour_retried_does_not_store_the_hour_that_was_written_twice(s3: Any) -> None:
    event = _interleaved(8)
    stats = _run(FlakyPuts(s3, fail={"hour=10": {1}}), event, batch_size=8)
    assert stats["partial_failures"] == 1
    _assert_once(s3, 8)


def test_the_retry_read_afresh_from_the_checkpoint_with_another_composition(s3: Any) -> None:
    event = _interleaved(60)
    stats = _run(FlakyPuts(s3, fail={"hour=10": {2, 5}, "hour=09": {4}}), event, batch_size=20)
    assert stats["partial_failures"] >= 3
    _assert_once(s3, 60)


def test_a_consumer_killed_after_writing_some_objects_is_retried_and_bisected(s3: Any) -> None:
    event = _interleaved(40)
    stats = _run(FlakyPuts(s3, crash_after={2, 5, 9}), event, batch_size=40)
    assert stats["function_errors"] == 3 and stats["bisections"] >= 2
    _assert_once(s3, 40)


def test_failures_and_crashes_mixed_over_many_batches(s3: Any) -> None:
    event = _interleaved(300)
    flaky = FlakyPuts(s3, fail={"hour=09": {3, 7, 8}, "hour=10": {2, 11}}, crash_after={4, 13, 20})
    stats = _run(flaky, event, batch_size=50, seed=7)
    assert stats["partial_failures"] and stats["function_errors"]
    _assert_once(s3, 300)
