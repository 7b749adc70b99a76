"""Two of moto's DynamoDB costs that grow with the table, removed without changing an answer.

- `transact_write_items` deep-copies the whole table once per item of the transaction, to restore
  it if the transaction is cancelled: with a few thousand items every transaction costs a second. A
  transaction writes only the items it names, so copies of those items (or their absence) restore
  exactly the state a table copy would.
- `Table.query` (the table's key and every index) starts from `all_items()`, which sorts every item
  of the table by its key, then filters and sorts the matches again by the query's own keys (the
  table's key breaks ties): the first sort changes nothing and is skipped.

`installed()` swaps both in for a test, `install()` for good (the local stack's moto server, whose
DynamoDB calls are serialised); moto's own implementation (conditions, cancellation reasons, filters,
pagination) runs unchanged. `tests/test_moto_fast.py` checks the answers against moto's own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TransactionCanceledException,
)
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table


class _TablesByReference:
    """`copy` as moto's DynamoDB models module sees it: a table is "copied" by reference (restored by us)."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    copy = staticmethod(copy.copy)


def _keys(table: Table, op_type: str, op: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    attrs = op["Item"] if op_type == "Put" else op["Key"]
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Table, hash_value: DynamoType, range_value: DynamoType | None, item: Any) -> None:
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    if item is None:
        table.items.get(hash_value, {}).pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


@contextmanager
def installed() -> Iterator[None]:
    """The patches, for the duration of a ``with`` block (one thread at a time)."""
    undo = _patch()
    try:
        yield
    finally:
        undo()


_installed = False


def install() -> None:
    """The patches, for the rest of the process (idempotent)."""
    global _installed
    if not _installed:
        _installed = True
        _patch()


def _patch() -> Callable[[], None]:
    backend_class = models.DynamoDBBackend
    original = backend_class.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None or op_type not in ("Put", "Update", "Delete", "ConditionCheck"):
                continue
            hash_value, range_value = _keys(table, op_type, op)
            saved.append((table, hash_value, range_value,
                          copy.deepcopy(table.get_item(hash_value, range_value))))
        try:
            original(self, transact_items)
        except (TransactionCanceledException, MultipleTransactionsException, MockValidationException):
            for table, hash_value, range_value, item in reversed(saved):
                _restore(table, hash_value, range_value, item)
            raise

    original_query = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")  # moto passes it positionally
        if index_name is None and self.range_key_attr:
            self.all_items = lambda: list(self.items.get(hash_key, {}).values())  # the key's own partition
        else:
            self.all_items = lambda: _unsorted(self)  # the query sorts what it keeps
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    real_copy = models.copy  # type: ignore[attr-defined]
    models.copy = _TablesByReference  # type: ignore[assignment,attr-defined]
    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]

    def undo() -> None:
        Table.query = original_query  # type: ignore[method-assign]
        backend_class.transact_write_items = original  # type: ignore[method-assign]
        models.copy = real_copy  # type: ignore[attr-defined]

    return undo


def _unsorted(table: Table) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())
