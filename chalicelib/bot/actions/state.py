"""Slots per conversation, in one item with a TTL: the values the customer gave, and the action waiting.

``CONV#<id>/ACTION``: ``known`` (slot name -> value, so "and the refund?" after an order-status
question reuses the order number), and while the bot waits for a slot ``pending`` (the intent, the
slots found so far, which one is asked for, how often it was asked). ``expires_at`` is
``ACTION_SLOT_TTL_SECONDS`` (30 minutes) after the last change; an expired item is treated as absent
(DynamoDB's TTL deletes lazily).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib import ids
from chalicelib.store import keys, schema
from chalicelib.store.codec import encode, encode_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.store.table import Table


@dataclass(frozen=True)
class Pending:
    intent: str
    slot: str  # the slot asked for
    asks: int  # how often it has been asked for (1 after the first question)
    found: dict[str, str] = field(default_factory=dict)
    language: str | None = None  # the language the question was asked in


@dataclass(frozen=True)
class SlotMemory:
    known: dict[str, str] = field(default_factory=dict)
    pending: Pending | None = None


class SlotStateStore:
    def __init__(self, table: Table, ttl_seconds: int = 1800, clock: Callable[[], int] = ids.now_ms) -> None:
        self._table = table
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _key(self, conversation_id: str) -> dict[str, Any]:
        pk, sk = keys.action_state_key(conversation_id)
        return {schema.PK: encode_value(pk), schema.SK: encode_value(sk)}

    def load(self, conversation_id: str) -> SlotMemory:
        item = self._table.get(self._key(conversation_id), consistent=True)
        if not item or int(item.get(schema.TTL_ATTRIBUTE, 0)) * 1000 <= self._clock():
            return SlotMemory()
        pending = item.get("pending")
        return SlotMemory(
            known={str(k): str(v) for k, v in (item.get("known") or {}).items()},
            pending=Pending(intent=str(pending["intent"]), slot=str(pending["slot"]), asks=int(pending["asks"]),
                            found={str(k): str(v) for k, v in (pending.get("found") or {}).items()},
                            language=str(pending["language"]) if pending.get("language") else None)
            if isinstance(pending, dict) else None,
        )

    def save(self, conversation_id: str, memory: SlotMemory, message_id: str) -> None:
        pk, sk = keys.action_state_key(conversation_id)
        now = self._clock()
        item = {schema.PK: pk, schema.SK: sk, "known": memory.known or None,
                "pending": asdict(memory.pending) if memory.pending else None,
                "last_message_id": message_id, "updated_ms": now,
                schema.TTL_ATTRIBUTE: (now // 1000) + self.ttl_seconds}
        self._table.put_item(Item=encode(item))
