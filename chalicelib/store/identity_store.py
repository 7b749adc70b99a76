"""Channel identities (who a WeChat openid, a WhatsApp number... belongs to) and customer merges.

An identity item `IDENTITY#<channel>#<external id>` points to one customer and is listed under
that customer on gsi1 (`CUST#id` / `IDENT#...`). A new identity is created together with a new
customer profile in one transaction, conditional on the identity not existing, so two concurrent
first messages still yield one customer. Merges are explicit (the company's backend asks for
them); each writes an audit record that lists exactly what it moved, so it can be undone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib import ids
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.dynamo import names
from chalicelib.store.table import ConditionFailed, Table, TransactionCancelled


class Identity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    channel: str
    external_id: str
    customer_id: str
    created_ms: int
    updated_ms: int | None = None
    profile_name: str | None = None
    phone: str | None = None
    email: str | None = None
    following: bool | None = None
    merged_from: str | None = None
    merge_id: str | None = None


class MergeRecord(BaseModel):
    """The audit record of one merge: who asked, what moved, and whether it was undone."""

    model_config = ConfigDict(extra="ignore")

    audit_id: str
    target_customer_id: str
    source_customer_id: str
    actor_id: str
    actor_role: str
    reason: str | None = None
    created_ms: int
    status: Literal["applied", "undone"] = "applied"
    identities: list[dict[str, str]] = []
    conversations: list[str] = []
    open_moved: str | None = None
    open_closed: str | None = None
    undone_ms: int | None = None
    undone_by: str | None = None


class IdentityStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- identities --------------------------------------------------------------------------

    def get(self, channel: str, external_id: str) -> Identity | None:
        item = self._get(keys.identity_pk(channel, external_id), keys.IDENTITY_SK)
        return Identity.model_validate(item) if item else None

    def resolve(self, channel: str, external_id: str, *, profile_name: str | None = None,
                phone: str | None = None, email: str | None = None) -> tuple[Identity, bool]:
        """The identity's customer; a new customer `cus_<ULID>` for a first contact: (identity, created)."""
        existing = self.get(channel, external_id)
        if existing is not None:
            return existing, False
        now = ids.now_ms()
        customer_id = ids.new_id("cus")
        identity = Identity(channel=channel, external_id=external_id, customer_id=customer_id, created_ms=now,
                            updated_ms=now, profile_name=profile_name, phone=phone, email=email)
        gsi1pk, gsi1sk = keys.customer_identities_gsi1(customer_id, channel, external_id)
        item = {schema.PK: keys.identity_pk(channel, external_id), schema.SK: keys.IDENTITY_SK,
                schema.GSI1_PK: gsi1pk, schema.GSI1_SK: gsi1sk, "type": "identity",
                **identity.model_dump(exclude_none=True)}
        profile = {schema.PK: keys.customer_pk(customer_id), schema.SK: keys.PROFILE_SK, "customer_id": customer_id,
                   "name": profile_name, "vip": False, "created_ms": now, "updated_ms": now,
                   "first_channel": channel}
        try:
            self._table.transact([
                {"Put": {"Item": encode(item),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": encode(profile),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except TransactionCancelled as exc:
            if not exc.condition_failed:
                raise
            winner = self.get(channel, external_id)  # a concurrent first message created it
            if winner is None:
                raise
            return winner, False
        return identity, True

    def for_customer(self, customer_id: str) -> list[Identity]:
        items = self._table.query_all(
            IndexName=schema.GSI1,
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":prefix": encode_value(keys.IDENTITY_GSI1_PREFIX)},
        )
        return [Identity.model_validate(decode(i)) for i in items]

    def set_following(self, channel: str, external_id: str, following: bool) -> None:
        self._table.update_item(
            Key=encode({schema.PK: keys.identity_pk(channel, external_id), schema.SK: keys.IDENTITY_SK}),
            UpdateExpression="SET following = :f, updated_ms = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":f": encode_value(following), ":now": encode_value(ids.now_ms())},
        )

    def reassign(self, channel: str, external_id: str, from_customer: str, to_customer: str,
                 merge_id: str | None) -> bool:
        """Point an identity at another customer, if it still belongs to `from_customer`."""
        gsi1pk, gsi1sk = keys.customer_identities_gsi1(to_customer, channel, external_id)
        sets = "customer_id = :to, gsi1pk = :pk, gsi1sk = :sk, updated_ms = :now"
        values = {":to": encode_value(to_customer), ":pk": encode_value(gsi1pk), ":sk": encode_value(gsi1sk),
                  ":now": encode_value(ids.now_ms()), ":from": encode_value(from_customer)}
        if merge_id:
            expression = f"SET {sets}, merged_from = :from, merge_id = :mid"
            values[":mid"] = encode_value(merge_id)
        else:
            expression = f"SET {sets} REMOVE merged_from, merge_id"
        return self._conditional_update(keys.identity_pk(channel, external_id), keys.IDENTITY_SK, expression,
                                        "customer_id = :from", values)

    # -- customers and conversations moved by a merge ----------------------------------------

    def customer_profile(self, customer_id: str) -> dict[str, Any] | None:
        return self._get(keys.customer_pk(customer_id), keys.PROFILE_SK, consistent=True)

    def mark_merged(self, source_customer_id: str, target_customer_id: str | None, merge_id: str) -> None:
        """Record on the source profile where it went (None: the merge was undone)."""
        key = encode({schema.PK: keys.customer_pk(source_customer_id), schema.SK: keys.PROFILE_SK})
        if target_customer_id:
            self._table.update_item(Key=key,
                                 UpdateExpression="SET merged_into = :t, merge_id = :m, updated_ms = :now",
                                 ExpressionAttributeValues={":t": encode_value(target_customer_id),
                                                            ":m": encode_value(merge_id),
                                                            ":now": encode_value(ids.now_ms())})
        else:
            self._table.update_item(Key=key,
                                 UpdateExpression="REMOVE merged_into, merge_id SET updated_ms = :now",
                                 ExpressionAttributeValues={":now": encode_value(ids.now_ms())})

    def conversation_ids(self, customer_id: str) -> list[str]:
        items = self._table.query_all(
            IndexName=schema.GSI1,
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":prefix": encode_value(keys.CONVERSATION_GSI1_PREFIX)},
            ProjectionExpression="conversation_id",
        )
        return [(decode(i) or {})["conversation_id"] for i in items]

    def move_conversation(self, conversation_id: str, from_customer: str, to_customer: str) -> bool:
        """Hand a conversation (and its place in the owner index) to another customer."""
        return self._conditional_update(
            keys.conversation_pk(conversation_id), keys.META_SK,
            "SET customer_id = :to, gsi1pk = :pk", "customer_id = :from",
            {":to": encode_value(to_customer), ":pk": encode_value(keys.customer_pk(to_customer)),
             ":from": encode_value(from_customer)})

    def move_open_pointer(self, conversation_id: str, from_customer: str, to_customer: str) -> bool:
        """Make `conversation_id` the open conversation of `to_customer` (who must have none)."""
        pointer = {schema.PK: keys.customer_pk(to_customer), schema.SK: keys.OPEN_CONVERSATION_SK,
                   "conversation_id": conversation_id, "created_ms": ids.now_ms()}
        try:
            self._table.transact([
                {"Delete": {"Key": encode({schema.PK: keys.customer_pk(from_customer),
                                           schema.SK: keys.OPEN_CONVERSATION_SK}),
                            "ConditionExpression": "conversation_id = :cid",
                            "ExpressionAttributeValues": {":cid": encode_value(conversation_id)}}},
                {"Put": {"Item": encode(pointer),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except TransactionCancelled as exc:
            if exc.condition_failed:
                return False
            raise
        return True

    # -- merge audit records -----------------------------------------------------------------

    def put_merge(self, record: MergeRecord) -> None:
        gsi1pk, gsi1sk = keys.customer_merges_gsi1(record.target_customer_id, record.created_ms, record.audit_id)
        item = {schema.PK: keys.merge_pk(record.audit_id), schema.SK: keys.MERGE_SK, schema.GSI1_PK: gsi1pk,
                schema.GSI1_SK: gsi1sk, "type": "merge", **record.model_dump(exclude_none=True)}
        self._table.put_item(Item=encode(item), ConditionExpression="attribute_not_exists(pk)")

    def get_merge(self, audit_id: str) -> MergeRecord | None:
        item = self._get(keys.merge_pk(audit_id), keys.MERGE_SK, consistent=True)
        return MergeRecord.model_validate(item) if item else None

    def mark_undone(self, audit_id: str, actor_id: str) -> bool:
        """applied -> undone, once; False if it was undone already."""
        return self._conditional_update(
            keys.merge_pk(audit_id), keys.MERGE_SK, "SET #status = :undone, undone_ms = :now, undone_by = :by",
            "#status = :applied",
            {":undone": encode_value("undone"), ":applied": encode_value("applied"),
             ":now": encode_value(ids.now_ms()), ":by": encode_value(actor_id)}, names("status"))

    def merges_into(self, customer_id: str) -> list[MergeRecord]:
        items = self._table.query_all(
            IndexName=schema.GSI1,
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":prefix": encode_value(keys.MERGE_GSI1_PREFIX)},
        )
        return [MergeRecord.model_validate(decode(i)) for i in items]

    # -- internals ---------------------------------------------------------------------------

    def _conditional_update(self, pk: str, sk: str, expression: str, condition: str, values: dict[str, Any],
                            attribute_names: dict[str, str] | None = None) -> bool:
        try:
            self._table.update_item(Key=encode({schema.PK: pk, schema.SK: sk}),
                                 UpdateExpression=expression, ConditionExpression=condition,
                                 ExpressionAttributeValues=values,
                                 **({"ExpressionAttributeNames": attribute_names} if attribute_names else {}))
        except ConditionFailed:
            return False
        return True

    def _get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        result = self._table.get_item(Key=encode({schema.PK: pk, schema.SK: sk}),
                                   ConsistentRead=consistent)
        return decode(result.get("Item"))
