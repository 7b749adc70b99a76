"""Read and write units per DynamoDB partition-key pattern (table and GSIs), counted with botocore hooks.

`KeyLoadRecorder` sees every call the app makes (like `bench.aws_calls`) and charges each one to the
partition key it lands on, by DynamoDB's rules:

- writes: 1 WCU per started KB of the item (PutItem: the item sent; UpdateItem and DeleteItem: the item
  as stored), twice that inside TransactWriteItems (ConditionCheck included); a GSI is charged one write
  per index entry the change touches (put, update, or delete of the entry: 2 when its key moves);
- reads: 1 RCU per started 4 KB read strongly consistent, half that eventually consistent; a Query is
  charged the summed size of what it read (a `Select=COUNT` is read again without it, to size it).

The state a write leaves (or an update finds) is read with a client of its own, outside the hooks, so
those look-ups are not counted. A key is reported as its *pattern*: literal words stay, a day becomes
`<day>`, a number `<n>`, anything else (ids, and whatever follows `AGENT#`, `CUST#`, `CONV#`, ...)
`<id>`. A pattern without `<id>` is **shared**: every customer's traffic on it lands on one partition
(or on the few its number picks).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import boto3

from bench.aws_calls import item_size

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_WORD = re.compile(r"[A-Za-z_]+")
_NUMBER = re.compile(r"\d+")
GSI_KEYS = {"gsi1": "gsi1pk", "gsi2": "gsi2pk"}


_ENTITIES = {"AGENT", "CUST", "CONV", "CONN", "TEAM", "TICKET"}


def pattern(pk: str) -> str:
    parts: list[str] = []
    for segment in pk.split("#"):
        if parts and parts[-1] in _ENTITIES:  # AGENT#amy is one agent's key, however word-like the id
            parts.append("<id>")
        elif _WORD.fullmatch(segment):
            parts.append(segment)
        elif _DAY.fullmatch(segment):
            parts.append("<day>")
        elif _NUMBER.fullmatch(segment):
            parts.append("<n>")
        else:
            parts.append("<id>")
    return "#".join(parts)


def is_shared(key_pattern: str) -> bool:
    return "<id>" not in key_pattern


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


def _write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class KeyLoad:
    """What one scenario put on each (index, key pattern): units, calls, and the load of its hottest value."""

    rcu: Counter[tuple[str, str]] = field(default_factory=Counter)
    wcu: Counter[tuple[str, str]] = field(default_factory=Counter)
    per_value: dict[tuple[str, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    calls: Counter[str] = field(default_factory=Counter)
    kinesis_records: int = 0
    kinesis_bytes: int = 0
    sqs_messages: int = 0
    s3_put_bytes: int = 0
    apigw_posts: int = 0
    apigw_post_bytes: int = 0

    def charge(self, index: str, pk: str, *, rcu: float = 0, wcu: float = 0) -> None:
        slot = (index, pattern(pk))
        self.rcu[slot] += rcu
        self.wcu[slot] += wcu
        self.per_value[slot][pk] += rcu + wcu

    def as_dict(self) -> dict[str, Any]:
        slots = sorted(set(self.rcu) | set(self.wcu))
        return {
            "keys": [{"index": i, "pattern": p, "rcu": round(self.rcu[(i, p)], 2), "wcu": round(self.wcu[(i, p)], 2),
                      "values": len(self.per_value[(i, p)])} for i, p in slots],
            "calls": dict(sorted(self.calls.items())), "kinesis_records": self.kinesis_records,
            "kinesis_bytes": self.kinesis_bytes, "sqs_messages": self.sqs_messages,
            "s3_put_bytes": self.s3_put_bytes, "apigw_posts": self.apigw_posts,
            "apigw_post_bytes": self.apigw_post_bytes,
        }


class KeyLoadRecorder:
    def __init__(self, endpoint_url: str | None = None, region: str = "us-east-1") -> None:
        self.load = KeyLoad()
        self._lock = threading.Lock()
        self._pending = threading.local()
        # A session of its own: its calls bypass the hooks registered on the app's session.
        self._raw = boto3.session.Session(region_name=region).client("dynamodb", endpoint_url=endpoint_url)

    def attach(self, session: Any, clients: list[Any] = ()) -> None:
        for events in [session.events, *(c.meta.events for c in clients)]:
            events.register("provide-client-params.*.*", self._before, unique_id="bench-key-load-before")
            events.register("after-call.*.*", self._after, unique_id="bench-key-load-after")

    def reset(self) -> None:
        with self._lock:
            self.load = KeyLoad()

    # -- hooks -----------------------------------------------------------------------------------

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service, name = model.service_model.service_name, model.name
        state: dict[str, Any] = {"params": params, "before": []}
        if service == "dynamodb" and name in ("UpdateItem", "DeleteItem"):
            state["before"] = [self._get(params["TableName"], params["Key"])]
        elif service == "dynamodb" and name == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (kind, body), = entry.items()
                state["before"].append(self._get(body["TableName"], body["Key"]) if kind in ("Update", "Delete")
                                       else None)
        self._pending.state = state

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        state = getattr(self._pending, "state", None) or {"params": {}, "before": []}
        self._pending.state = None
        service, name = model.service_model.service_name, model.name
        params = state["params"]
        with self._lock:
            self.load.calls[f"{service}.{name}"] += 1
        if getattr(http_response, "status_code", 200) >= 300:
            return
        if service == "dynamodb":
            self._dynamodb(name, params, parsed, state["before"])
        elif service == "kinesis" and name in ("PutRecords", "PutRecord"):
            records = params.get("Records") or [params]
            with self._lock:
                self.load.kinesis_records += len(records)
                self.load.kinesis_bytes += sum(len(r.get("Data", b"")) for r in records)
        elif service == "sqs" and name in ("SendMessage", "SendMessageBatch"):
            with self._lock:
                self.load.sqs_messages += len(params.get("Entries") or [params])
        elif service == "s3" and name == "PutObject":
            body = params.get("Body", b"")
            with self._lock:
                self.load.s3_put_bytes += len(body) if isinstance(body, (bytes, str)) else 0
        elif service == "apigatewaymanagementapi" and name == "PostToConnection":
            with self._lock:
                self.load.apigw_posts += 1
                self.load.apigw_post_bytes += len(params.get("Data", b""))

    # -- DynamoDB charging -------------------------------------------------------------------------

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self._raw.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _charge_write(self, table: str, key: dict[str, Any], sent: dict[str, Any] | None,
                      before: dict[str, Any] | None, factor: int, *, deleted: bool = False) -> None:
        after = None if deleted else (sent if sent is not None else self._get(table, key))
        size = item_size(sent if sent is not None else (after or before or key))
        with self._lock:
            self.load.charge("table", key["pk"]["S"], wcu=factor * _write_units(size))
            for index, attribute in GSI_KEYS.items():
                old = (before or {}).get(attribute, {}).get("S")
                new = (after or {}).get(attribute, {}).get("S")
                if old and new and old != new:
                    self.load.charge(index, old, wcu=1)  # the entry leaves one partition ...
                    self.load.charge(index, new, wcu=_write_units(item_size(after or {})))  # ... for another
                elif new:
                    self.load.charge(index, new, wcu=_write_units(item_size(after or {})))
                elif old:
                    self.load.charge(index, old, wcu=1)

    def _dynamodb(self, name: str, params: dict[str, Any], parsed: dict[str, Any], before: list[Any]) -> None:
        table = params.get("TableName", "")
        consistent = bool(params.get("ConsistentRead"))
        if name == "GetItem":
            item = parsed.get("Item")
            with self._lock:
                self.load.charge("table", params["Key"]["pk"]["S"],
                                 rcu=_read_units(item_size(item) if item else 1, consistent))
        elif name == "BatchGetItem":
            for table_name, request in params.get("RequestItems", {}).items():
                found = {(i["pk"]["S"], i["sk"]["S"]): i for i in parsed.get("Responses", {}).get(table_name, [])}
                for key in request["Keys"]:
                    item = found.get((key["pk"]["S"], key["sk"]["S"]))
                    with self._lock:
                        self.load.charge("table", key["pk"]["S"], rcu=_read_units(
                            item_size(item) if item else 1, bool(request.get("ConsistentRead"))))
        elif name == "Query":
            index = params.get("IndexName", "table")
            items = parsed.get("Items")
            if items is None:  # Select=COUNT: read it again to size what it read
                again = {k: v for k, v in params.items() if k not in ("Select",)}
                items = self._raw.query(**again).get("Items", [])
            size = sum(item_size(i) for i in items)
            with self._lock:
                self.load.charge(index, self._query_pk(params), rcu=_read_units(size, consistent))
        elif name == "PutItem":
            item = params["Item"]
            self._charge_write(table, {"pk": item["pk"], "sk": item["sk"]}, item, None, 1)
        elif name in ("UpdateItem", "DeleteItem"):
            self._charge_write(table, params["Key"], None, before[0] if before else None, 1,
                               deleted=name == "DeleteItem")
        elif name == "TransactWriteItems":
            for position, entry in enumerate(params.get("TransactItems", [])):
                (kind, body), = entry.items()
                old = before[position] if position < len(before) else None
                if kind == "Put":
                    item = body["Item"]
                    self._charge_write(body["TableName"], {"pk": item["pk"], "sk": item["sk"]}, item, None, 2)
                elif kind == "ConditionCheck":
                    with self._lock:
                        self.load.charge("table", body["Key"]["pk"]["S"], wcu=2)
                else:
                    self._charge_write(body["TableName"], body["Key"], None, old, 2, deleted=kind == "Delete")
        elif name == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        self._charge_write(table, {"pk": item["pk"], "sk": item["sk"]}, item, None, 1)

    @staticmethod
    def _query_pk(params: dict[str, Any]) -> str:
        """The partition key value of a Query: the value compared with `=` to the index's hash key."""
        condition = params.get("KeyConditionExpression", "")
        names = params.get("ExpressionAttributeNames", {})
        values = params.get("ExpressionAttributeValues", {})
        for left, right in re.findall(r"([#\w]+)\s*=\s*(:\w+)", condition):
            if names.get(left, left) in ("pk", "gsi1pk", "gsi2pk"):
                return str(values[right]["S"])
        return "?"
