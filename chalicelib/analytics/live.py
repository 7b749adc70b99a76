"""Near-real-time counters for the supervisor dashboard (``GET /metrics/live``), kept in DynamoDB.

A UTC day's atomic counters live in ``keys.LIVE_STATS_SHARDS`` items (``pk=STATS#<yyyy-mm-dd>#<nn>``,
``sk=LIVE``, see ``keys.live_stats_shard_pk``): every invocation adds to them, and one item would be one
partition's 1,000 writes a second, so ``record(events)`` makes at most one ``UpdateItem ... ADD`` per day
touched on a shard picked at random (the emit buffer calls it at flush; the hot path pays no extra write
per message), and ``day()`` sums the shards with one BatchGetItem, together with the unsharded item of
earlier versions. The items expire after 90 days (TTL).
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib import ids
from chalicelib.store import keys, schema

from .events import BaseEvent

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from chalicelib.store.table import Table

TTL_SECONDS = 90 * 86400

# event_type -> counter attribute
_COUNTED = {
    "message_in": "messages_in",
    "message_out": "messages_out",
    "bot_decision": "bot_decisions",
    "handoff": "handoffs",
    "assignment": "assignments",
    "resolution": "resolutions",
    "conversation_closed": "conversations_closed",
    "csat": "csat_responses",
    "sla_breach": "sla_breaches",
}
COUNTERS = ("conversations", *_COUNTED.values(), "csat_score_sum")


def _field(event: BaseEvent | Mapping[str, Any], name: str) -> object:
    return getattr(event, name, None) if isinstance(event, BaseEvent) else event.get(name)


def _day(ts: object) -> str | None:
    if isinstance(ts, datetime):
        value = ts
    elif isinstance(ts, str):
        try:
            value = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%d")


def tally(events: Iterable[BaseEvent | Mapping[str, Any]]) -> dict[str, Counter[str]]:
    """Counter increments per UTC day for a batch of events."""
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        event_type = _field(event, "event_type")
        day = _day(_field(event, "ts"))
        if day is None or event_type not in _COUNTED:
            continue
        counts = per_day[day]
        counts[_COUNTED[event_type]] += 1
        if event_type == "message_in" and _field(event, "seq") == 1:
            counts["conversations"] += 1  # the first message of a conversation opens it
            counts[f"channel_{_field(event, 'channel')}"] += 1
        if event_type == "csat" and isinstance(score := _field(event, "score"), int):
            counts["csat_score_sum"] += score
    return per_day


class LiveCounters:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(self, events: Iterable[BaseEvent | Mapping[str, Any]]) -> int:
        """Apply the batch's increments; returns the number of UpdateItem calls made."""
        calls = 0
        for day, counts in tally(events).items():
            names = {f"#c{i}": name for i, name in enumerate(counts)}
            values = {f":v{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
            adds = ", ".join(f"#c{i} :v{i}" for i in range(len(counts)))
            expires = int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()) + TTL_SECONDS
            shard = secrets.randbelow(keys.LIVE_STATS_SHARDS)
            self._table.update_item(
                Key={schema.PK: {"S": keys.live_stats_shard_pk(day, shard)}, schema.SK: {"S": keys.LIVE_STATS_SK}},
                UpdateExpression=f"ADD {adds} SET #ttl = :ttl",
                ExpressionAttributeNames={**names, "#ttl": schema.TTL_ATTRIBUTE},
                ExpressionAttributeValues={**values, ":ttl": {"N": str(expires)}},
            )
            calls += 1
        return calls

    def day(self, day: str) -> dict[str, int]:
        """The counters of one UTC day (zeros when nothing happened)."""
        pks = [keys.live_stats_pk(day), *(keys.live_stats_shard_pk(day, n) for n in range(keys.LIVE_STATS_SHARDS))]
        items = self._table.batch_get([{schema.PK: {"S": pk}, schema.SK: {"S": keys.LIVE_STATS_SK}} for pk in pks],
                                      consistent=False)
        total: Counter[str] = Counter()
        for values in items:
            total.update({k: int(v) for k, v in values.items() if k in COUNTERS or k.startswith("channel_")})
        out = {name: total.get(name, 0) for name in COUNTERS}
        out.update({k: v for k, v in total.items() if k.startswith("channel_")})
        return out

    def today(self) -> tuple[str, dict[str, int]]:
        day = datetime.fromtimestamp(ids.now_ms() / 1000, UTC).strftime("%Y-%m-%d")
        return day, self.day(day)
