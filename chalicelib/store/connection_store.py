"""WebSocket connections: who is behind a connection id, and which connections to fan out to.

A connection item lives for API Gateway's two-hour maximum plus a margin (TTL), so connections
whose `$disconnect` never arrived disappear on their own; 410 answers remove them sooner.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib import ids
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.table import ConditionFailed, Table

OwnerType = Literal["customer", "agent"]


class Connection(BaseModel):
    model_config = ConfigDict(extra="ignore")

    connection_id: str
    owner_type: OwnerType
    owner_id: str
    endpoint: str
    connected_ms: int
    conversation_id: str | None = None
    name: str | None = None
    vip: bool = False
    channel: str | None = None
    role: str | None = None


class ConnectionStore:
    def __init__(self, table: Table, ttl_seconds: int) -> None:
        self._table = table
        self._ttl = ttl_seconds

    def put(self, connection: Connection) -> None:
        item: dict[str, Any] = {
            schema.PK: keys.connection_pk(connection.connection_id), schema.SK: keys.CONNECTION_SK,
            schema.TTL_ATTRIBUTE: connection.connected_ms // 1000 + self._ttl,
            **connection.model_dump(),
        }
        item[schema.GSI1_PK], item[schema.GSI1_SK] = keys.owner_connections_gsi1(
            connection.owner_type, connection.owner_id, connection.connection_id)
        if connection.conversation_id:
            item[schema.GSI2_PK], item[schema.GSI2_SK] = keys.conversation_connections_gsi2(
                connection.conversation_id, connection.connection_id)
        self._table.put_item(Item=encode(item))

    def get(self, connection_id: str) -> Connection | None:
        result = self._table.get_item(
            Key=encode({schema.PK: keys.connection_pk(connection_id), schema.SK: keys.CONNECTION_SK}),
        )
        item = decode(result.get("Item"))
        if not item or item.get(schema.TTL_ATTRIBUTE, 0) < ids.now_ms() // 1000:
            return None  # DynamoDB deletes expired items lazily; treat them as gone already.
        return Connection.model_validate(item)

    def delete(self, connection_id: str) -> None:
        self._table.delete_item(
            Key=encode({schema.PK: keys.connection_pk(connection_id), schema.SK: keys.CONNECTION_SK}),
        )

    def attach(self, connection_id: str, conversation_id: str) -> bool:
        """Point a live connection at a conversation; False if the connection is already gone."""
        gsi2pk, gsi2sk = keys.conversation_connections_gsi2(conversation_id, connection_id)
        try:
            self._table.update_item(
                Key=encode({schema.PK: keys.connection_pk(connection_id), schema.SK: keys.CONNECTION_SK}),
                UpdateExpression="SET conversation_id = :cid, gsi2pk = :pk, gsi2sk = :sk",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":cid": encode_value(conversation_id), ":pk": encode_value(gsi2pk),
                                           ":sk": encode_value(gsi2sk)},
            )
        except ConditionFailed:
            return False
        return True

    def for_owner(self, owner_type: OwnerType, owner_id: str) -> list[Connection]:
        items = self._table.query_all(
            IndexName=schema.GSI1,
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":pk": encode_value(keys.owner_pk(owner_type, owner_id)),
                                       ":prefix": encode_value(keys.CONNECTION_GSI_PREFIX)},
        )
        return self._live(items)

    def for_conversation(self, conversation_id: str) -> list[Connection]:
        items = self._table.query_all(
            IndexName=schema.GSI2,
            KeyConditionExpression="gsi2pk = :pk",
            ExpressionAttributeValues={":pk": encode_value(keys.conversation_pk(conversation_id))},
        )
        return self._live(items)

    @staticmethod
    def _live(items: list[dict[str, Any]]) -> list[Connection]:
        now = ids.now_ms() // 1000
        decoded = (decode(i) for i in items)
        return [Connection.model_validate(i) for i in decoded if i and i.get(schema.TTL_ATTRIBUTE, 0) >= now]
