"""The capacity model (bench/capacity.py) on the measurement checked in under bench/results/, and the
unit charging of bench/key_load.py on real calls (moto): what the report says is what DynamoDB would charge."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.capacity import RCU_LIMIT, WCU_LIMIT, Profile, model
from bench.key_load import KeyLoadRecorder, is_shared, pattern

ROOT = Path(__file__).resolve().parents[2]


def _rows(name: str) -> dict[tuple[str, str], dict]:
    measured = json.loads((ROOT / "bench" / "results" / name).read_text())
    return {(r["index"], r["pattern"]): r for r in model(measured, Profile())}


def test_patterns_name_shared_keys_and_ids():
    assert pattern("STATS#2026-12-02#07") == "STATS#<day>#<n>" and is_shared("STATS#<day>#<n>")
    assert pattern("QUEUE#WAITING#03") == "QUEUE#WAITING#<n>"
    assert pattern("AGENT#amy") == "AGENT#<id>" and not is_shared("AGENT#<id>")
    assert pattern("CONV#conv_01ABC") == "CONV#<id>"


def test_sharded_keys_fit_their_partitions_at_the_peak_profile():
    before, after = _rows("capacity-before.json"), _rows("capacity.json")
    assert before[("table", "STATS#<day>")]["partition_wcu_s"] > WCU_LIMIT, "the unsharded counters were hot"
    assert before[("table", "QUEUE#WAITING")]["partition_wcu_s"] > WCU_LIMIT
    for slot in [("table", "STATS#<day>#<n>"), ("table", "QUEUE#WAITING#<n>"), ("gsi2", "AGENTS#ONLINE#<n>"),
                 ("gsi1", "AGENTS#<n>")]:
        row = after[slot]
        assert row["partition_wcu_s"] < WCU_LIMIT / 2 and row["partition_rcu_s"] < RCU_LIMIT / 2, row
    per_id = [r for r in after.values() if not r["shared"]]
    assert per_id and all(r["load"] < 0.01 for r in per_id), "no per-id key comes near a partition's limit"


def test_no_shared_key_is_hot_at_the_peak_profile():
    """The idle index (sharded, written once per five minutes of activity), the misses and the contact index
    were the last hot keys (docs/capacity.md): every shared key now stays under its partition's limits."""
    rows = _rows("capacity.json")
    assert rows[("gsi2", "IDLE#SHARD#<n>")]["partition_wcu_s"] < WCU_LIMIT / 2
    hot = [k for k, r in rows.items() if r["partition_wcu_s"] > WCU_LIMIT or r["partition_rcu_s"] > RCU_LIMIT]
    assert hot == []


def test_units_are_charged_to_table_and_index_partitions(aws):
    db = aws.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    recorder = KeyLoadRecorder()
    recorder.attach(aws, [db])
    db.put_item(TableName=table, Item={"pk": {"S": "AGENT#amy"}, "sk": {"S": "PROFILE"},
                                       "gsi2pk": {"S": "AGENTS#ONLINE#01"}, "gsi2sk": {"S": "AGENT#amy"},
                                       "blob": {"S": "x" * 1500}})
    db.update_item(TableName=table, Key={"pk": {"S": "AGENT#amy"}, "sk": {"S": "PROFILE"}},
                   UpdateExpression="SET gsi2pk = :g", ExpressionAttributeValues={":g": {"S": "AGENTS#ONLINE#02"}})
    db.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "QUEUE#WAITING#00"},
                                                                                   "sk": {"S": "P9#1#c"}}}}])
    db.get_item(TableName=table, Key={"pk": {"S": "AGENT#amy"}, "sk": {"S": "PROFILE"}})
    load = recorder.load
    assert load.wcu[("table", "AGENT#<id>")] == 2 + 2  # 1.5 KB: two units, on the put and on the update
    assert load.wcu[("gsi2", "AGENTS#ONLINE#<n>")] == 2 + 1 + 2  # put; update moves it: delete + put
    assert load.wcu[("table", "QUEUE#WAITING#<n>")] == 2  # a transaction doubles
    assert load.rcu[("table", "AGENT#<id>")] == 0.5  # eventually consistent, under 4 KB
