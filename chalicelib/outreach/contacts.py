"""Who was last in contact when, per channel: the index campaign segments are read from.

Every customer message moves `CONTACT#<channel>` on the customer's partition forward (never back),
and with it the item's place on the sparse index `CONTACTS#<channel>#<shard>` (sort key: the last
contact time), so "customers of WhatsApp last heard from between A and B" is a range query on
CONTACT_SHARDS partitions, without a scan. Customers who have not written since this index exists
are not in it; they enter it with their next message.

The index keeps contact times to `RESOLUTION_MS` (ten minutes): a message within that of the recorded
contact writes nothing. The check is an eventually consistent read (half a read unit), the write it
saves costs three write units (the item, and the index entry's delete and put), and a lively
conversation would otherwise write on every message (issue 13: write units per message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.table import ConditionFailed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chalicelib.core.events import MessageStored
    from chalicelib.store.table import Table


RESOLUTION_MS = 10 * 60_000


class Contact(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer_id: str
    channel: str
    last_contact_ms: int


class ContactIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    def on_message(self, event: MessageStored) -> None:
        message = event.message
        if message.sender.type != "customer":
            return
        self.touch(message.sender.id, message.channel, message.ts_ms)

    def touch(self, customer_id: str, channel: str, at_ms: int) -> None:
        known = self.get(customer_id, channel)
        if known is not None and known.last_contact_ms >= at_ms - RESOLUTION_MS:
            return  # recorded recently enough (or later): segments are by day, not by second
        gsi2pk, gsi2sk = keys.contacts_gsi2(channel, customer_id, at_ms)
        try:
            self._table.update_item(
                Key=encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.contact_sk(channel)}),
                UpdateExpression="SET customer_id = :c, channel = :ch, last_contact_ms = :at, gsi2pk = :p, gsi2sk = :s",
                ConditionExpression="attribute_not_exists(last_contact_ms) OR last_contact_ms < :at",
                ExpressionAttributeValues={":c": encode_value(customer_id), ":ch": encode_value(channel),
                                           ":at": encode_value(at_ms), ":p": encode_value(gsi2pk),
                                           ":s": encode_value(gsi2sk)})
        except ConditionFailed:
            return  # a later contact is already recorded

    def get(self, customer_id: str, channel: str) -> Contact | None:
        item = self._table.get(encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.contact_sk(channel)}))
        return Contact.model_validate(item) if item else None

    def page(self, channel: str, shard: int, *, after_ms: int | None, before_ms: int | None,
             start: dict[str, Any] | None, limit: int) -> tuple[list[Contact], dict[str, Any] | None]:
        """One page of a shard's contacts last heard from in [after_ms, before_ms), and where to go on."""
        low = f"{(after_ms or 0):013d}#"
        high = f"{(before_ms if before_ms is not None else 10**13 - 1):013d}#"
        request: dict[str, Any] = {
            "IndexName": schema.GSI2, "Limit": limit,
            "KeyConditionExpression": "gsi2pk = :pk AND gsi2sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": encode_value(keys.contacts_gsi2_pk(channel, shard)),
                                          ":low": encode_value(low), ":high": encode_value(high)}}
        if start:
            request["ExclusiveStartKey"] = start
        answer = self._table.query(**request)
        contacts = [Contact.model_validate(decode(i)) for i in answer.get("Items", [])]
        if before_ms is not None:
            contacts = [c for c in contacts if c.last_contact_ms < before_ms]
        return contacts, answer.get("LastEvaluatedKey")

    def shards(self) -> Iterator[int]:
        return iter(range(keys.CONTACT_SHARDS))
