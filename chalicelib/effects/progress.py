"""`EffectsProgress`: what a failed delivery of a message's effects completed, so a redelivery
skips it (the fan-out that reached the other devices is not pushed twice). Nothing is written
while deliveries succeed; a redelivery costs one read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import ids
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode

if TYPE_CHECKING:
    from chalicelib.store.table import Table

PROGRESS_TTL_SECONDS = 24 * 3600


class EffectsProgress:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _key(self, message_id: str) -> dict[str, object]:
        pk, sk = keys.effects_progress_key(message_id)
        return encode({schema.PK: pk, schema.SK: sk})

    def completed(self, message_id: str) -> frozenset[str]:
        item = decode(self._table.get_item(Key=self._key(message_id), ConsistentRead=True).get("Item"))
        return frozenset(item.get("completed", ())) if item else frozenset()

    def remember(self, message_id: str, completed: tuple[str, ...]) -> None:
        if not completed:
            return
        self._table.update_item(
            Key=self._key(message_id), UpdateExpression="ADD completed :c SET #ttl = :ttl",
            ExpressionAttributeNames={"#ttl": schema.TTL_ATTRIBUTE},
            ExpressionAttributeValues=encode({":c": set(completed),
                                              ":ttl": ids.now_ms() // 1000 + PROGRESS_TTL_SECONDS}))
