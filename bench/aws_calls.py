"""Counting AWS API calls and DynamoDB write units with botocore event hooks.

Write units follow DynamoDB's rules: one unit per started KB of the item written, twice that inside
a transaction. Item sizes are computed from the request (moto's ConsumedCapacity is not faithful);
updates and deletes are charged by the size of the item as sent, which is exact for our small items.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from decimal import Decimal
from typing import Any


def _value_size(value: dict[str, Any]) -> int:
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = len(str(Decimal(data)).replace("-", "").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in data)
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in data.items())
    return 0


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def write_units(item: dict[str, Any] | None) -> int:
    return max(1, math.ceil(item_size(item or {}) / 1024))


class AwsCallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.write_units = 0
        self._lock = threading.Lock()

    def attach(self, session: Any, clients: list[Any] = ()) -> None:
        """Register on a boto3 Session (clients made later inherit it) and on clients made already.

        The same unique id keeps a client that inherited the session's hook from counting twice.
        """
        for events in [session.events, *(c.meta.events for c in clients)]:
            events.register("provide-client-params.*.*", self._on_call, unique_id="bench-aws-call-counter")

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.write_units = 0

    def _on_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = f"{model.service_model.service_name}.{model.name}"
        units = 0
        if model.service_model.service_name == "dynamodb":
            if model.name == "PutItem":
                units = write_units(params.get("Item"))
            elif model.name in ("UpdateItem", "DeleteItem"):
                units = 1
            elif model.name == "TransactWriteItems":
                for entry in params.get("TransactItems", []):
                    (kind, body), = entry.items()
                    units += 2 * (write_units(body.get("Item")) if kind == "Put" else 1)
            elif model.name == "BatchWriteItem":
                for requests in params.get("RequestItems", {}).values():
                    units += sum(write_units(r.get("PutRequest", {}).get("Item")) for r in requests)
        with self._lock:
            self.calls[operation] += 1
            self.write_units += units
