"""The analytics path under faults: interaction events through Kinesis into the S3 archive, each exactly once.

WhatsApp, Telegram and LINE users write in (e-mail addresses and phone numbers in their texts) at 10 %
DynamoDB, SQS and Kinesis faults, the first round just before an hour turns and the others just after it,
so that every shard's batches mix two hours. The interactions stream is then consumed from moto directly as
Lambda's Kinesis event source mapping does (`analytics_flow.ShardConsumer`: a partial failure re-reads the
shard from its lowest failed record in a batch of another size, a crashed invocation is retried and bisected)
while 10 % of the archive's S3 writes fail (throttling, 5xx, resets, replies lost after S3 stored the object),
the first write outlasts botocore's attempts (a partial batch failure), one is held past the client's read
timeout, and the invocation is killed twice just after it wrote an object.

Checked on moto directly: every event on the stream is in the archive once (no row twice, none lost), the
events of every message are there (`message_in` for each customer message, `message_out`, `bot_decision` and
`handoff` for each bot answer), no row carries a raw id, a platform user id or any text of the messages,
and the message path's effects are those of the webhook suite (stored once, the bot's answers once), unchanged
by the archive's retries.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from analytics_flow import ShardConsumer, archived_events, bucket_objects, shards_of, stream_records
from faults_support import record_summary, stream_events, table_items, ten_percent
from webhook_scenario import USERS, inbound_checks, run_webhooks

from local.fault_proxy import Rule

PER_USER = 3
CRASH_AFTER_WRITES = (3, 9)  # the invocation is killed just after the archive's 3rd and 9th objects
BATCH_SIZE = 8  # small batches (500 in app.py) so that a shard's records take several, of varying size


class LambdaTimeout(BaseException):
    """The invocation is killed (timeout, out of memory): nothing after this point of the handler runs."""


def _text(index: int, n: int) -> str:
    return f"I am ana.{index}@example.com, call me on 138 0013 8{index:03d}; where is my order {index}-{n}?"


@pytest.fixture
def clock() -> Iterator[Any]:
    """The Lambda code's one clock, set by the test (the local stack's simulated clock)."""
    from chalicelib import ids
    from local.clock import SimulatedClock

    simulated = SimulatedClock()
    ids.set_clock(simulated.now)
    yield simulated
    ids.set_clock(None)


def _across_an_hour(clock: Any) -> Any:
    """Round 0 a minute before the hour turns, the later rounds just after it."""
    turn = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    turn_ms = int(turn.timestamp() * 1000)

    def between_rounds(n: int) -> None:
        clock.set_ms(turn_ms - 60_000 if n == 0 else turn_ms + 1_000 + n * 1_000)

    return between_rounds


def _kill_after_writes(s3: Any, which: tuple[int, ...]) -> Counter[str]:
    """The archive's invocation dies just after S3 stored its n-th object (for each n in `which`)."""
    seen: Counter[str] = Counter()

    def hook(http_response: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            seen["writes"] += 1
            if seen["writes"] in which:
                seen["kills"] += 1
                raise LambdaTimeout(f"killed after object {seen['writes']}")

    s3.meta.events.register("after-call.s3.PutObject", hook)
    return seen


def archive_rules() -> list[Rule]:
    return [Rule("s3", "PutObject", 1.0, ("5xx", "throttle"), limit=3),  # botocore's 3 attempts: a partial failure
            Rule("s3", "PutObject", 1.0, ("timeout",), timeout_s=10.5, limit=1),  # past the 10 s read timeout
            *ten_percent("s3", "dynamodb", "kinesis")]


def _by_operation(stats: dict[str, Any]) -> dict[str, int]:
    return dict(sorted(stats["faults"].items()))


def test_every_interaction_event_archived_once_despite_faults_replays_and_crashes(social_server, clock):
    from chalicelib import services as composition
    from chalicelib.analytics.redact import pseudonymise

    proxy, app = social_server["proxy"], social_server["lam"].app
    inbound_rules = ten_percent("dynamodb", "sqs", "kinesis")
    run = run_webhooks(social_server, inbound_rules, per_user=PER_USER, text=_text,
                       between_rounds=_across_an_hour(clock))
    effects = inbound_checks(proxy, run["sent"])
    table_before = table_items(proxy)

    _, records = stream_records(None, proxy.direct("kinesis"))
    on_stream = stream_events(proxy)
    assert len(on_stream) == len(records)
    hours = {e["ts"][:13] for e in on_stream}
    assert len(hours) == 2, hours

    rules = archive_rules()
    kills = _kill_after_writes(composition.services().s3, CRASH_AFTER_WRITES)
    proxy.configure(rules, seed=23)
    proxy.reset_counters()
    consumers = {}
    for n, (shard, shard_records) in enumerate(sorted(shards_of(records).items())):
        consumers[shard] = ShardConsumer(
            shard_records, lambda event: app.archive_interactions(event, None), batch_size=BATCH_SIZE, seed=n)
        consumers[shard].run()
    stats = proxy.state.snapshot()
    proxy.clear()
    consumed = sum((c.stats for c in consumers.values()), Counter())

    s3 = proxy.direct("s3")
    archived = archived_events(bucket_objects(None, "events/", s3=s3))
    rows = Counter(e["event_id"] for e in archived)
    expected = Counter(e["event_id"] for e in on_stream)
    twice = {i: c for i, c in rows.items() if c > 1}
    lost = set(expected) - set(rows)
    assert (len(twice), len(lost)) == (0, 0), (
        f"{len(twice)} events archived more than once ({sum(twice.values()) - len(twice)} extra rows), "
        f"{len(lost)} of {len(expected)} lost; consumer {dict(consumed)}; faults {_by_operation(stats)}")
    assert set(rows) == set(expected) and max(expected.values()) == 1
    assert bucket_objects(None, "errors/", s3=s3) == {}, "no event was taken for a poison record"

    # the replays really happened: a partial failure re-read, crashed invocations retried and bisected
    assert kills["kills"] == len(CRASH_AFTER_WRITES) == consumed["function_errors"], (kills, consumed)
    assert consumed["partial_failures"] >= 1 and consumed["bisections"] >= 1, consumed
    assert any(k.endswith(":timeout") for k in stats["faults"]) and stats["faults_total"] >= 0.05 * stats[
        "requests_total"], stats

    # every message's events, once: the customer's message_in, the bot answer's message_out, decision, handoff
    by_type = Counter(e["event_type"] for e in archived)
    customer_ids = {m["message_id"] for m in table_before if str(m.get("sk", "")).startswith("MSG#")
                    and m["sender"]["type"] == "customer"}
    bot_ids = {m["message_id"] for m in effects["bot"]}
    archived_in = Counter(e["message_id"] for e in archived if e["event_type"] == "message_in")
    archived_out = Counter(e["message_id"] for e in archived if e["event_type"] == "message_out")
    assert archived_in == Counter(dict.fromkeys(customer_ids, 1)), "message_in: one row per customer message"
    assert archived_out == Counter(dict.fromkeys(bot_ids, 1)), "message_out: one row per bot answer"
    decided = Counter(e["message_id"] for e in archived if e["event_type"] == "bot_decision")
    assert decided == Counter({m["meta"]["in_reply_to"]: 1 for m in effects["bot"]}), decided
    assert by_type["handoff"] == len(bot_ids), by_type

    # nothing personal in the archive: pseudonyms only, no platform user id, no text (e-mails, phones)
    owners = {i["customer_id"] for i in table_before if i.get("sk") == "IDENTITY"}
    pids = {pseudonymise(c, os.environ["PSEUDONYM_KEY"]) for c in owners}
    assert {e["customer_pid"] for e in archived} == pids
    text = "\n".join(str(e) for e in archived)
    leaked = [s for s in [*owners, *(u for _, u in USERS), *run["sent"], "example.com", "138 0013", "13800138"]
              if s in text]
    assert leaked == [], leaked

    # the message path's effects unchanged by the archive's retries
    assert table_items(proxy) == table_before
    record_summary("analytics_path", stats, rules, messages=effects["messages"], bot_answers=len(bot_ids),
                   events_on_stream=len(expected), events_archived=len(archived), archived_twice=0, lost=0,
                   event_types=dict(sorted(by_type.items())), hours=sorted(hours), shards=len(consumers),
                   objects=len(bucket_objects(None, "events/", s3=s3)), invocations=consumed["invocations"],
                   records_delivered=consumed["records_delivered"], partial_failures=consumed["partial_failures"],
                   failed_items_reported=consumed["failed_items_reported"],
                   crashed_invocations=consumed["function_errors"], bisections=consumed["bisections"],
                   faults_by_operation=_by_operation(stats),
                   inbound_faults=run["stats"]["faults_total"], inbound_requests=run["stats"]["requests_total"],
                   inbound_faults_by_operation=_by_operation(run["stats"]))
