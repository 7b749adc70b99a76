"""Customers, conversations and messages in the single table.

Writes that a retry could repeat are conditional: the open-conversation pointer is created with
`attribute_not_exists`, and every message is written in one transaction with an idempotency record
keyed by the sender's own message id, so a resend is detected and answered with the original.
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib import ids
from chalicelib.core.models import (
    AppendResult,
    Conversation,
    ConversationClosed,
    Customer,
    DedupKey,
    Message,
    MessageDraft,
)
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.dynamo import names
from chalicelib.store.table import ConditionFailed, Table, TransactionCancelled

DEDUP_TTL_SECONDS = 7 * 24 * 3600


class ConversationStore:
    def __init__(self, table: Table, message_ttl_seconds: int | None = None) -> None:
        self._table = table
        # Retention (issue 16): a message item expires this long after it was written (None: kept).
        self._message_ttl = message_ttl_seconds

    # -- customers ---------------------------------------------------------------------------

    def upsert_customer(self, customer_id: str, *, name: str | None, vip: bool) -> None:
        """Record the profile the company's token vouches for; created_ms is kept from the first time."""
        now = ids.now_ms()
        sets = ["created_ms = if_not_exists(created_ms, :now)", "updated_ms = :now", "vip = :vip",
                "customer_id = :cid"]
        values: dict[str, Any] = {":now": encode_value(now), ":vip": encode_value(vip),
                                  ":cid": encode_value(customer_id)}
        if name:
            sets.append("#name = :name")
            values[":name"] = encode_value(name)
        self._table.update_item(
            Key=encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.PROFILE_SK}),
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeValues=values,
            **({"ExpressionAttributeNames": names("name")} if name else {}),
        )

    def get_customer(self, customer_id: str) -> Customer | None:
        item = self._get(keys.customer_pk(customer_id), keys.PROFILE_SK)
        return Customer.model_validate(item) if item else None

    # -- conversations -----------------------------------------------------------------------

    def open_conversation_id(self, customer_id: str) -> str | None:
        item = self._get(keys.customer_pk(customer_id), keys.OPEN_CONVERSATION_SK, consistent=True)
        return item["conversation_id"] if item else None

    def open_conversation(self, customer_id: str, channel: str) -> tuple[str, bool]:
        """Return the customer's open conversation, creating it if there is none: (id, created)."""
        existing = self.open_conversation_id(customer_id)
        if existing:
            return existing, False
        conversation_id = ids.new_id("conv")
        now = ids.now_ms()
        gsi1pk, gsi1sk = keys.customer_conversations_gsi1(customer_id, now, conversation_id)
        meta = {
            schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.META_SK,
            schema.GSI1_PK: gsi1pk, schema.GSI1_SK: gsi1sk,
            "conversation_id": conversation_id, "customer_id": customer_id, "status": "open",
            "channel": channel, "created_ms": now,
        }
        counter = {schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.SEQ_SK,
                   "status": "open", "last_seq": 0}
        pointer = {schema.PK: keys.customer_pk(customer_id), schema.SK: keys.OPEN_CONVERSATION_SK,
                   "conversation_id": conversation_id, "created_ms": now}
        try:
            self._table.transact([
                {"Put": {"Item": encode(pointer),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": encode(meta),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": encode(counter)}},
            ])
        except TransactionCancelled as exc:
            if not exc.condition_failed:
                raise
            # Another invocation opened one first: there is still exactly one open conversation. Ids
            # are random, so finding our own id means a retried call found its own first attempt.
            winner = self.open_conversation_id(customer_id)
            if winner is None:
                raise
            return winner, winner == conversation_id
        return conversation_id, True

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        item = self._get(keys.conversation_pk(conversation_id), keys.META_SK, consistent=True)
        return Conversation.model_validate(item) if item else None

    def close_conversation(self, conversation_id: str, customer_id: str, reason: str) -> bool:
        """Close it and free the customer's open slot; False if it was already closed."""
        now = ids.now_ms()
        try:
            self._table.transact([
                {"Update": {
                    "Key": encode({schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.META_SK}),
                    # out of the idle index (keys.idle_gsi2): it holds open conversations only
                    "UpdateExpression": "SET #status = :closed, closed_ms = :now, close_reason = :reason "
                                        "REMOVE gsi2pk, gsi2sk",
                    "ConditionExpression": "#status = :open",
                    "ExpressionAttributeNames": names("status"),
                    "ExpressionAttributeValues": {":closed": encode_value("closed"), ":open": encode_value("open"),
                                                  ":now": encode_value(now), ":reason": encode_value(reason)},
                }},
                {"Delete": {
                    "Key": encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.OPEN_CONVERSATION_SK}),
                    "ConditionExpression": "conversation_id = :cid",
                    "ExpressionAttributeValues": {":cid": encode_value(conversation_id)},
                }},
                seq_status_update(conversation_id, "closed"),
            ])
        except TransactionCancelled as exc:
            if exc.condition_failed:
                return False
            raise
        return True

    def list_customer_conversations(self, customer_id: str, *, limit: int = 20,
                                    newest_first: bool = True) -> list[Conversation]:
        page = self._table.query(
            IndexName=schema.GSI1,
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":prefix": encode_value(keys.CONVERSATION_GSI1_PREFIX)},
            ScanIndexForward=not newest_first, Limit=limit,
        )
        return [Conversation.model_validate(decode(i)) for i in page.get("Items", [])]

    # -- messages ----------------------------------------------------------------------------

    def append_message(self, conversation_id: str, draft: MessageDraft,
                       dedup: DedupKey | None = None) -> AppendResult:
        """Store a message with the next seq; a repeated dedup key returns the original message.

        The idempotency record is written first, conditionally, and carries the whole message; the
        message item follows. A retry after a crash between the two finds the record and completes
        the write, so no transaction (twice the write units, and slower) is needed on the hot path.
        """
        seq = self._next_seq(conversation_id)
        now = ids.now_ms()
        message = Message(
            message_id=ids.new_id("msg"), conversation_id=conversation_id, seq=seq,
            ts=ids.iso_from_ms(now), ts_ms=now, **draft.model_dump(),
        )
        if dedup is not None:
            dedup_pk = keys.dedup_pk(dedup.scope, dedup.key)
            record = {schema.PK: dedup_pk, schema.SK: keys.DEDUP_SK, "conversation_id": conversation_id,
                      "seq": seq, "message_id": message.message_id, "message": message.model_dump(mode="json"),
                      schema.TTL_ATTRIBUTE: now // 1000 + DEDUP_TTL_SECONDS}
            try:
                self._table.put_item(Item=encode(record),
                                  ConditionExpression="attribute_not_exists(pk)",
                                  ReturnValuesOnConditionCheckFailure="ALL_OLD")
            except ConditionFailed as exc:
                existing = exc.item or self._get(dedup_pk, keys.DEDUP_SK, consistent=True)
                if existing is None:
                    raise
                return AppendResult(self._complete(existing), duplicate=True,
                                    effects_done=bool(existing.get("effects_done")))
            # A concurrent duplicate may already have completed this very message from our record.
            self._complete(record)
            return AppendResult(message, duplicate=False)
        self._put_message(message)
        return AppendResult(message, duplicate=False)

    def find_duplicate(self, dedup: DedupKey) -> Message | None:
        """The message already stored under this dedup key, if any."""
        found = self.find_duplicate_result(dedup)
        return found.message if found else None

    def find_duplicate_result(self, dedup: DedupKey) -> AppendResult | None:
        """The message already stored under this dedup key, and whether its effects all happened."""
        record = self._get(keys.dedup_pk(dedup.scope, dedup.key), keys.DEDUP_SK, consistent=True)
        if record is None:
            return None
        return AppendResult(self._complete(record), duplicate=True, effects_done=bool(record.get("effects_done")))

    def mark_effects_done(self, dedup_pk: str) -> None:
        """Every effect of the message behind this idempotency record happened: a retry adds nothing."""
        with contextlib.suppress(ConditionFailed):  # the record expired meanwhile: nothing to mark
            self._table.update_item(Key=encode({schema.PK: dedup_pk, schema.SK: keys.DEDUP_SK}),
                                    UpdateExpression="SET effects_done = :t",
                                    ConditionExpression="attribute_exists(pk)",
                                    ExpressionAttributeValues={":t": encode_value(True)})

    def _complete(self, record: dict[str, Any]) -> Message:
        """The message an idempotency record stands for, written now if a crash had cut it short."""
        message = Message.model_validate(record["message"])
        with contextlib.suppress(ConditionFailed):  # the message item exists: the record's write had completed
            self._put_message(message, dedup_ref=record.get(schema.PK))
        return message

    def _put_message(self, message: Message, dedup_ref: str | None = None) -> None:
        # `dedup_ref` names the idempotency record holding a copy of the message, so that erasure
        # (issue 16) can find and delete that copy without a scan.
        item = {schema.PK: keys.conversation_pk(message.conversation_id), schema.SK: keys.message_sk(message.seq),
                "type": "message", **message.model_dump(mode="json"), "dedup_ref": dedup_ref}
        if self._message_ttl:
            item[schema.TTL_ATTRIBUTE] = message.ts_ms // 1000 + self._message_ttl
        self._table.put_item(Item=encode(item), ConditionExpression="attribute_not_exists(pk)")

    def get_message(self, conversation_id: str, seq: int) -> Message | None:
        item = self._get(keys.conversation_pk(conversation_id), keys.message_sk(seq), consistent=True)
        return Message.model_validate(item) if item else None

    def list_messages(self, conversation_id: str, *, after_seq: int | None = None,
                      before_seq: int | None = None, limit: int = 50) -> tuple[list[Message], bool]:
        """A page of messages in seq order and whether more exist beyond it.

        `after_seq` pages forward (resync after reconnect); `before_seq` pages back from there;
        neither gives the latest `limit` messages.
        """
        pk = encode_value(keys.conversation_pk(conversation_id))
        if after_seq is not None:
            condition = "pk = :pk AND sk BETWEEN :lo AND :hi"
            values = {":pk": pk, ":lo": encode_value(keys.message_sk(after_seq + 1)),
                      ":hi": encode_value(keys.message_sk(10**keys.SEQ_WIDTH - 1))}
            forward = True
        else:
            upper = before_seq - 1 if before_seq is not None else 10**keys.SEQ_WIDTH - 1
            if upper < 0:
                return [], False
            condition = "pk = :pk AND sk BETWEEN :lo AND :hi"
            values = {":pk": pk, ":lo": encode_value(keys.message_sk(0)),
                      ":hi": encode_value(keys.message_sk(upper))}
            forward = False
        page = self._table.query(KeyConditionExpression=condition,
                              ExpressionAttributeValues=values, ScanIndexForward=forward,
                              Limit=limit + 1, ConsistentRead=True)
        items = [decode(i) for i in page.get("Items", [])]
        has_more = len(items) > limit
        messages = [Message.model_validate(i) for i in items[:limit]]
        if not forward:
            messages.reverse()
        return messages, has_more

    # -- internals ---------------------------------------------------------------------------

    def last_activity_ms(self, conversation_id: str) -> int | None:
        """When the conversation's latest message was stored (None: no message yet)."""
        item = self._get(keys.conversation_pk(conversation_id), keys.SEQ_SK, consistent=True)
        return int(item["last_message_ms"]) if item and item.get("last_message_ms") is not None else None

    def _next_seq(self, conversation_id: str) -> int:
        """The next seq, from the conversation's counter item; ConversationClosed unless it is open."""
        try:
            return self._increment_seq(conversation_id)
        except ConditionFailed:
            pass
        # Closed, unknown, or opened before the counter had an item of its own (its seq is on META):
        # META decides, and a counter item is started from META's count.
        meta = self._get(keys.conversation_pk(conversation_id), keys.META_SK, consistent=True)
        if meta is None or meta.get("status") != "open":
            raise ConversationClosed(conversation_id)
        with contextlib.suppress(ConditionFailed):  # a concurrent message started it first
            self._table.update_item(
                Key=encode({schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.SEQ_SK}),
                UpdateExpression="SET last_seq = :n, #status = :open",
                ConditionExpression="attribute_not_exists(last_seq)",
                ExpressionAttributeNames=names("status"),
                ExpressionAttributeValues={":n": encode_value(int(meta.get("last_seq") or 0)),
                                           ":open": encode_value("open")})
        try:
            return self._increment_seq(conversation_id)
        except ConditionFailed as exc:
            raise ConversationClosed(conversation_id) from exc

    def _increment_seq(self, conversation_id: str) -> int:
        result = self._table.update_item(
            Key=encode({schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.SEQ_SK}),
            UpdateExpression="ADD last_seq :one SET last_message_ms = :now",
            ConditionExpression="#status = :open AND attribute_exists(last_seq)",
            ExpressionAttributeNames=names("status"),
            ExpressionAttributeValues={":one": encode_value(1), ":open": encode_value("open"),
                                       ":now": encode_value(ids.now_ms())},
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["last_seq"]["N"])

    def _get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        result = self._table.get_item(Key=encode({schema.PK: pk, schema.SK: sk}),
                                   ConsistentRead=consistent)
        return decode(result.get("Item"))


def seq_status_update(conversation_id: str, status: str) -> dict[str, Any]:
    """The transaction item that keeps the counter's copy of the status in step with META's."""
    return {"Update": {
        "Key": encode({schema.PK: keys.conversation_pk(conversation_id), schema.SK: keys.SEQ_SK}),
        "UpdateExpression": "SET #status = :s",
        "ExpressionAttributeNames": names("status"),
        "ExpressionAttributeValues": {":s": encode_value(status)},
    }}
