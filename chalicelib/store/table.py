"""The persistence base: the one place that calls the DynamoDB client.

Every repository (this package's stores and the domains' own, such as `routing.store`) holds a
`Table` and calls it instead of the client: the table name is filled in, and the two outcomes a
conditional write can have besides success become domain errors instead of `ClientError` codes to
match:

- `ConditionFailed`: a conditional put, update or delete found the item not as it expected
  (`item` is the item as it is, when the call asked for it with `ReturnValuesOnConditionCheckFailure`);
- `TransactionCancelled`: a transaction was cancelled; `codes` are the per-item reasons
  (`"None"` for items that passed), and `condition_failed` says whether a condition was the cause.

Every other error (throttling after botocore's retries, a validation error) propagates unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from chalicelib.store.codec import decode
from chalicelib.store.dynamo import cancellation_codes, error_code

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient


class ConditionFailed(Exception):
    """A conditional write's condition did not hold."""

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        super().__init__("the condition of a conditional write did not hold")
        self.item = item


class TransactionCancelled(Exception):
    """A TransactWriteItems call was cancelled (one reason code per item, in order)."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(f"transaction cancelled: {codes}")
        self.codes = codes

    @property
    def condition_failed(self) -> bool:
        return "ConditionalCheckFailed" in self.codes


class Table:
    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self._client = client
        self.name = name

    # -- reads -----------------------------------------------------------------------------------

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = self._client.get_item(TableName=self.name, **kwargs)  # type: ignore[assignment]
        return response

    def get(self, key: dict[str, Any], *, consistent: bool = False) -> dict[str, Any] | None:
        """The decoded item at `key` (an encoded key), or None."""
        return decode(self.get_item(Key=key, ConsistentRead=consistent).get("Item"))

    def query(self, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = self._client.query(TableName=self.name, **kwargs)  # type: ignore[assignment]
        return response

    def query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        """A Query run to its end (bounded result sets only: one owner's connections, ...); raw items."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def batch_get(self, keys: list[dict[str, Any]], *, consistent: bool = True,
                  attempts: int = 3) -> list[dict[str, Any]]:
        """The decoded items found at `keys` (encoded keys), retrying unprocessed keys a few times."""
        request: dict[str, Any] = {self.name: {"Keys": keys, "ConsistentRead": consistent}}
        found: list[dict[str, Any]] = []
        for _ in range(attempts):
            response = self._client.batch_get_item(RequestItems=request)
            found.extend(decode(item) or {} for item in response.get("Responses", {}).get(self.name, []))
            request = dict(response.get("UnprocessedKeys") or {})
            if not request:
                break
        return found

    # -- writes ----------------------------------------------------------------------------------

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._write(self._client.put_item, kwargs)

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._write(self._client.update_item, kwargs)

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._write(self._client.delete_item, kwargs)

    def transact(self, items: list[dict[str, Any]]) -> None:
        """TransactWriteItems; each item's `TableName` is filled in when it has none."""
        for item in items:
            for body in item.values():
                body.setdefault("TableName", self.name)
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                raise TransactionCancelled(cancellation_codes(exc)) from exc
            raise

    def _write(self, call: Callable[..., object], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            response = cast("dict[str, Any]", call(TableName=self.name, **kwargs))
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConditionFailed(decode(exc.response.get("Item"))) from exc  # type: ignore[arg-type]
            raise
        return response
