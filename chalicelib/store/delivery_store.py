"""Where replies go and what happened to them: reply routes, delivery states and send markers.

* Reply route, on the conversation's META item: the channel, external id and `reply_context` of
  the customer's last inbound platform message, and `last_customer_ms_<channel>` (the
  customer-service window is counted from it).
* Delivery state, on the message item: `delivery = {status, rank, error?, parts, platform_ids,
  attempts, updated_ms}`; platform receipts (delivered/read) only move it forward.
* Send markers `OUTBOX#<message id>` / `PART#n`: a part is claimed before it is sent (with a
  lease, by the SQS delivery of the job) and marked `sent` after, so a redelivered job never sends a part twice.
* Platform message index `PLATFORMMSG#<channel>#<platform id>` -> our message, for receipts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib import ids
from chalicelib.core.events import DeliveryChanged
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.dynamo import names
from chalicelib.store.table import ConditionFailed, Table

PLATFORM_INDEX_TTL_SECONDS = 30 * 24 * 3600
MARKER_TTL_SECONDS = 14 * 24 * 3600
LAST_CUSTOMER_PREFIX = "last_customer_ms_"

# Receipts move a delivery forward only; failures and refusals are final.
STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4, "refused": 9, "failed": 9}

ClaimResult = Literal["claimed", "sent", "busy"]


class ReplyRoute(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_id: str
    customer_id: str
    channel: str
    external_id: str
    reply_context: dict[str, str] = {}
    route_ms: int
    last_customer_ms: dict[str, int] = {}


class DeliveryStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- reply routes ------------------------------------------------------------------------

    def set_reply_route(self, conversation_id: str, channel: str, external_id: str,
                        reply_context: dict[str, str], customer_ms: int | None) -> bool:
        """Answer this conversation on `channel`; `customer_ms` (a customer message) restarts the window."""
        sets = ["reply_channel = :ch", "reply_external_id = :ext", "reply_context = :rc", "reply_route_ms = :now"]
        values = {":ch": encode_value(channel), ":ext": encode_value(external_id),
                  ":rc": encode_value(dict(reply_context)), ":now": encode_value(ids.now_ms())}
        attribute_names: dict[str, str] = {}
        if customer_ms is not None:
            sets.append("#last = :last")
            attribute_names["#last"] = f"{LAST_CUSTOMER_PREFIX}{channel}"
            values[":last"] = encode_value(customer_ms)
        condition = "attribute_exists(pk)"
        if customer_ms is not None:  # a late redelivery of an older message must not move the route back
            condition += " AND (attribute_not_exists(#last) OR #last <= :last)"
        try:
            self._table.update_item(
                Key=encode({schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.META_SK}),
                UpdateExpression="SET " + ", ".join(sets), ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": attribute_names} if attribute_names else {}),
            )
        except ConditionFailed:
            return False
        return True

    def reply_route(self, conversation_id: str) -> ReplyRoute | None:
        meta = self._get(keys.conversation_pk(conversation_id), keys.META_SK, consistent=True)
        if not meta or not meta.get("reply_channel"):
            return None
        last = {k[len(LAST_CUSTOMER_PREFIX):]: int(v) for k, v in meta.items() if k.startswith(LAST_CUSTOMER_PREFIX)}
        return ReplyRoute(conversation_id=conversation_id, customer_id=meta["customer_id"],
                          channel=meta["reply_channel"], external_id=meta["reply_external_id"],
                          reply_context=meta.get("reply_context") or {}, route_ms=int(meta.get("reply_route_ms", 0)),
                          last_customer_ms=last)

    # -- delivery state on the message -------------------------------------------------------

    def set_delivery(self, conversation_id: str, seq: int, status: str, **fields: Any) -> bool:
        """Overwrite the message's delivery state (the consumer's own progress); False if there is no message."""
        delivery = {"status": status, "rank": STATUS_RANK[status], "updated_ms": ids.now_ms(), **fields}
        try:
            self._table.update_item(
                Key=encode({schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.message_sk(seq)}),
                UpdateExpression="SET delivery = :d", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":d": encode_value(delivery)},
            )
        except ConditionFailed:
            return False
        return True

    def delivery(self, conversation_id: str, seq: int) -> dict[str, Any] | None:
        item = self._get(keys.conversation_pk(conversation_id), keys.message_sk(seq), consistent=True)
        return (item or {}).get("delivery")

    def finish_delivery(self, conversation_id: str, seq: int, status: Literal["failed", "refused"],
                        **fields: Any) -> dict[str, Any] | None:
        """Make the delivery final (failed / refused) once: the message item after, None if it was final already."""
        delivery = {"status": status, "rank": STATUS_RANK[status], "updated_ms": ids.now_ms(), **fields}
        try:
            answer = self._table.update_item(
                Key=encode({schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.message_sk(seq)}),
                UpdateExpression="SET delivery = :d",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(delivery) OR delivery.#rank < :r)",
                ExpressionAttributeNames=names("rank"), ReturnValues="ALL_NEW",
                ExpressionAttributeValues={":d": encode_value(delivery), ":r": encode_value(STATUS_RANK[status])},
            )
        except ConditionFailed:
            return None
        return decode(answer.get("Attributes"))

    def apply_receipt(self, channel: str, platform_message_id: str, status: str, error: str | None,
                      at_ms: int) -> dict[str, Any] | None:
        """A platform's delivered/read/failed receipt: the message item after it moved the delivery forward;
        None if the message is unknown or its delivery already as far (a repeated receipt)."""
        ref = self._get(keys.platform_message_pk(channel, platform_message_id), keys.PLATFORM_MESSAGE_SK)
        if not ref or status not in STATUS_RANK:
            return None
        sets = "delivery.#status = :s, delivery.#rank = :r, delivery.receipt_ms = :at, delivery.updated_ms = :now"
        values = {":s": encode_value(status), ":r": encode_value(STATUS_RANK[status]), ":at": encode_value(at_ms),
                  ":now": encode_value(ids.now_ms())}
        if error:
            sets += ", delivery.#error = :e"
            values[":e"] = encode_value(error[:1000])
        try:
            answer = self._table.update_item(Key=encode({schema.PK: keys.conversation_pk(ref["conversation_id"]),
                                                         schema.SK: keys.message_sk(int(ref["seq"]))}),
                UpdateExpression="SET " + sets,
                ConditionExpression="attribute_exists(delivery) AND delivery.#rank < :r",
                ExpressionAttributeNames=names("status", "rank", *(["error"] if error else [])),
                ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return decode(answer.get("Attributes"))

    def index_platform_message(self, channel: str, platform_message_id: str, conversation_id: str, seq: int,
                               message_id: str) -> None:
        item = {schema.PK: keys.platform_message_pk(channel, platform_message_id), schema.SK: keys.PLATFORM_MESSAGE_SK,
                "conversation_id": conversation_id, "seq": seq, "message_id": message_id,
                schema.TTL_ATTRIBUTE: ids.now_ms() // 1000 + PLATFORM_INDEX_TTL_SECONDS}
        self._table.put_item(Item=encode(item))

    # -- send markers ------------------------------------------------------------------------

    def claim_part(self, message_id: str, part: int, lease_seconds: int, claimant: str) -> ClaimResult:
        """Take the right to send one part: `claimed`, or `sent` (done before), or `busy` (another sender).

        `claimant` names the delivery of the job that claims (its SQS message id). A claim it made itself
        is its own again: when DynamoDB applied the claim but the reply was lost (the client's retry then
        fails the condition), or when an attempt of the same SQS message failed after claiming and before
        sending. Only another job (a duplicate enqueued for the same message) is told `busy`.
        """
        now = ids.now_ms()
        item = {schema.PK: keys.outbound_part_pk(message_id), schema.SK: keys.outbound_part_sk(part),
                "state": "sending", "lease_until_ms": now + lease_seconds * 1000, "claimant": claimant,
                schema.TTL_ATTRIBUTE: now // 1000 + MARKER_TTL_SECONDS}
        try:
            self._table.put_item(
                Item=encode(item),
                ConditionExpression="attribute_not_exists(pk) OR (#state = :sending AND "
                                    "(lease_until_ms < :now OR claimant = :claimant))",
                ExpressionAttributeNames=names("state"),
                ExpressionAttributeValues={":sending": encode_value("sending"), ":now": encode_value(now),
                                           ":claimant": encode_value(claimant)},
            )
        except ConditionFailed:
            current = self._get(keys.outbound_part_pk(message_id), keys.outbound_part_sk(part), consistent=True)
            if current and current.get("state") == "sent":
                return "sent"
            return "claimed" if current and current.get("claimant") == claimant else "busy"
        return "claimed"

    def mark_part_sent(self, message_id: str, part: int, platform_message_id: str | None) -> None:
        expression = "SET #state = :sent, sent_ms = :now"
        values = {":sent": encode_value("sent"), ":now": encode_value(ids.now_ms())}
        if platform_message_id:
            expression += ", platform_id = :pid"
            values[":pid"] = encode_value(platform_message_id)
        self._table.update_item(
            Key=encode({schema.PK: keys.outbound_part_pk(message_id), schema.SK: keys.outbound_part_sk(part)}),
            UpdateExpression=expression, ExpressionAttributeNames=names("state"), ExpressionAttributeValues=values,
        )

    def release_part(self, message_id: str, part: int) -> None:
        """Give a claimed part back after a failed send (a retry may claim it at once)."""
        try:
            self._table.delete_item(
                Key=encode({schema.PK: keys.outbound_part_pk(message_id), schema.SK: keys.outbound_part_sk(part)}),
                ConditionExpression="#state = :sending", ExpressionAttributeNames=names("state"),
                ExpressionAttributeValues={":sending": encode_value("sending")},
            )
        except ConditionFailed:
            return  # not ours to release: sent, or claimed again meanwhile

    def sent_platform_id(self, message_id: str, part: int) -> str | None:
        item = self._get(keys.outbound_part_pk(message_id), keys.outbound_part_sk(part), consistent=True)
        return (item or {}).get("platform_id")

    def _get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        result = self._table.get_item(Key=encode({schema.PK: pk, schema.SK: sk}),
                                   ConsistentRead=consistent)
        return decode(result.get("Item"))


def delivery_changed(message_item: dict[str, Any], channel: str, *, customer_id: str | None = None,
                     error_code: str | None = None) -> DeliveryChanged:
    """The `DeliveryChanged` event of a message item whose delivery just moved (`finish_delivery`, `apply_receipt`)."""
    delivery = message_item.get("delivery") or {}
    meta = message_item.get("meta") or {}
    campaign_id = meta.get("campaign_id") if meta.get("outreach") == "campaign" else None
    return DeliveryChanged(conversation_id=str(message_item["conversation_id"]), seq=int(message_item["seq"]),
                           message_id=message_item.get("message_id"), channel=channel, status=str(delivery["status"]),
                           ts_ms=int(delivery.get("receipt_ms") or delivery.get("updated_ms") or ids.now_ms()),
                           customer_id=customer_id, campaign_id=str(campaign_id) if campaign_id else None,
                           error_code=error_code)
