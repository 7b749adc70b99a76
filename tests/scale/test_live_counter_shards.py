"""The live dashboard counters are written to shards (no hot partition) and read back summed (issue 13)."""

from __future__ import annotations

import os

from chalicelib.analytics.live import LiveCounters
from chalicelib.store import keys
from chalicelib.store.table import Table

DAY = "2026-12-02"


def _event(event_type: str, **fields: object) -> dict[str, object]:
    return {"event_type": event_type, "ts": f"{DAY}T10:00:00Z", **fields}


def test_counters_spread_over_shards_and_sum_on_read(aws):
    db = aws.client("dynamodb")
    live = LiveCounters(Table(db, os.environ["TABLE_NAME"]))
    for _ in range(200):  # 200 invocations, each flushing its own increments
        live.record([_event("message_in", seq=2, channel="app"), _event("message_out")])
    live.record([_event("message_in", seq=1, channel="wechat")])

    pks = {item["pk"]["S"] for item in db.scan(TableName=os.environ["TABLE_NAME"])["Items"]
           if item["pk"]["S"].startswith("STATS#")}
    assert keys.live_stats_pk(DAY) not in pks, "nothing is written to the unsharded item any more"
    assert len(pks) > keys.LIVE_STATS_SHARDS // 2, pks  # 200 random picks reach (nearly) every shard
    assert pks <= {keys.live_stats_shard_pk(DAY, n) for n in range(keys.LIVE_STATS_SHARDS)}

    counts = live.day(DAY)
    assert counts["messages_in"] == 201 and counts["messages_out"] == 200
    assert counts["conversations"] == 1 and counts["channel_wechat"] == 1


def test_the_unsharded_item_of_earlier_versions_is_still_counted(aws):
    db = aws.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    db.put_item(TableName=table, Item={"pk": {"S": keys.live_stats_pk(DAY)}, "sk": {"S": keys.LIVE_STATS_SK},
                                       "messages_in": {"N": "7"}, "channel_app": {"N": "2"}})
    live = LiveCounters(Table(db, table))
    live.record([_event("message_in", seq=3, channel="app")])
    counts = live.day(DAY)
    assert counts["messages_in"] == 8 and counts["channel_app"] == 2 and counts["handoffs"] == 0
