"""Privacy rights (issue 16): everything stored about one customer, exported as one document or erased.

**What belongs to a customer** (`inventory`): their partition `CUST#id` (profile, open pointer,
pending surveys and ticket questions, consent and its history, ticket links); what gsi1 lists under
them (conversations, channel identities, merges, live connections); every item of each of their
conversations (`CONV#id`: meta and routing state, messages, rating, bot state) with the
idempotency copies (`DEDUP#...`, named by each message's `dedup_ref`) and the outbound send markers
and platform-id index of each message; their tickets (through the link items) with their audit
trails; the access audit of reads of them and of look-ups of their identities; and in the
analytics bucket their interaction events (found by their pseudonym) and the full texts of long
inbound messages (named in the messages' `meta.original_text`).

**Export** returns all of it as one JSON document (key attributes left out).

**Erasure** removes it step by step, in an order that keeps what a later step needs to find its
items until that step is done (the conversations and identities gsi1 lists are deleted after
what hangs off them, the customer's partition last). Each step is idempotent and its completion is
written to the erasure record, so an erasure cut short (a timeout, a throttled write) is finished
by calling DELETE again, and a DELETE of an erased customer answers with the same record.

- Analytics objects are *rewritten*: each of the customer's events keeps its figures (so past
  KPIs stay as they were reported) but their pseudonym is replaced by a random one that is stored
  nowhere, and their free-text fields (`comment`, `reason`) are dropped. Making the pseudonym
  unlinkable without a rewrite is not possible here: it is an HMAC of the customer id under one
  platform-wide key, so anyone holding the key and the id could recompute it. Poison records
  (`errors/`) mentioning the customer are deleted.
- Tickets are business records and stay, anonymised: no customer, conversation or channel, subject
  and description replaced, comment texts and the customer's own actions in the audit trail replaced.
- The access audit stays (who read what, when), with the customer id replaced by the erasure's
  reference.
- The erasure record (`ERASURE#<id>`) holds no personal data: its id is a keyed hash of the
  customer id under the platform's pseudonym key (so a repeated DELETE finds it, and nobody without
  the key can tell whose it is), the admin who asked, the reason with personal data redacted, the
  steps done and the counts of what was removed.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib import ids
from chalicelib.analytics.redact import pseudonymise
from chalicelib.errors import NotFound
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mypy_boto3_s3 import S3Client

    from chalicelib.customers.consent import ConsentStore
    from chalicelib.store.table import Table
    from chalicelib.tickets.store import TicketStore

KEY_ATTRIBUTES = (schema.PK, schema.SK, schema.GSI1_PK, schema.GSI1_SK, schema.GSI2_PK, schema.GSI2_SK,
                  schema.TTL_ATTRIBUTE)
ANALYTICS_PREFIXES = ("events/",)
POISON_PREFIXES = ("errors/",)
FREE_TEXT_EVENT_FIELDS = ("comment", "reason")
ERASED = "[erased]"
CUSTOMER_ERASED = "customer:erased"
# The interaction stream keeps records 24 h and the archive batches them: a repeated DELETE in this
# window rewrites the events archived after the erasure ran.
STREAM_LAG_MS = 48 * 3600 * 1000
STEPS = ("analytics", "originals", "tickets", "conversations", "access_audit", "identities", "connections",
         "customer")


class ErasureRequest(BaseModel):
    """Body of `DELETE /customers/{id}`."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)


class ErasureRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    erasure_id: str
    status: str  # in_progress | completed
    actor_id: str
    reason: str
    requested_ms: int
    completed_ms: int | None = None
    attempts: int = 1
    steps_done: list[str] = Field(default_factory=list)
    removed: dict[str, int] = Field(default_factory=dict)


class PrivacyRights:
    def __init__(self, table: Table, tickets: TicketStore, consent: ConsentStore, s3: Callable[[], S3Client],
                 bucket: Callable[[], str], pseudonym_key: Callable[[], str],
                 redact: Callable[[str], str], clock: Callable[[], int] = ids.now_ms) -> None:
        self._table = table
        self._tickets = tickets
        self._consent = consent
        self._s3 = s3
        self._bucket = bucket
        self._key = pseudonym_key
        self._redact = redact
        self._now = clock

    # -- the inventory ------------------------------------------------------------------------

    def pseudonym(self, customer_id: str) -> str:
        """The customer's pseudonym in the interaction stream (as `analytics.redact.pseudonymise` makes it)."""
        return pseudonymise(customer_id, self._key())

    def erasure_id(self, customer_id: str) -> str:
        return hmac.new(self._key().encode(), f"erasure\x1f{customer_id}".encode(), hashlib.sha256).hexdigest()[:40]

    def _partition(self, pk: str, prefix: str | None = None) -> list[dict[str, Any]]:
        condition, values = "pk = :pk", {":pk": encode_value(pk)}
        if prefix is not None:
            condition += " AND begins_with(sk, :p)"
            values[":p"] = encode_value(prefix)
        items = self._table.query_all(KeyConditionExpression=condition, ExpressionAttributeValues=values,
                                      ConsistentRead=True)
        return [i for i in (decode(raw) for raw in items) if i]

    def _listed(self, customer_id: str, prefix: str) -> list[dict[str, Any]]:
        """What gsi1 lists under the customer with `prefix` (conversations, identities, merges, connections)."""
        items = self._table.query_all(
            IndexName=schema.GSI1, KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :p)",
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":p": encode_value(prefix)})
        return [i for i in (decode(raw) for raw in items) if i]

    def _conversation_ids(self, customer_id: str) -> list[str]:
        return [str(i["conversation_id"]) for i in self._listed(customer_id, keys.CONVERSATION_GSI1_PREFIX)]

    def _objects(self, prefixes: tuple[str, ...]) -> Iterator[str]:
        paginator = self._s3().get_paginator("list_objects_v2")
        for prefix in prefixes:
            for page in paginator.paginate(Bucket=self._bucket(), Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"]

    def _read_events(self, key: str) -> list[dict[str, Any]]:
        body = self._s3().get_object(Bucket=self._bucket(), Key=key)["Body"].read()
        text = gzip.decompress(body).decode() if key.endswith(".gz") else body.decode()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    # -- export -------------------------------------------------------------------------------

    def export(self, customer_id: str) -> dict[str, Any]:
        """Everything stored about the customer, as one JSON-ready document."""
        own = self._partition(keys.customer_pk(customer_id))
        identities = self._listed(customer_id, keys.IDENTITY_GSI1_PREFIX)
        conversation_ids = self._conversation_ids(customer_id)
        if not own and not identities and not conversation_ids:
            raise NotFound(f"customer {customer_id} not found")
        conversations = []
        ratings = []
        for conversation_id in conversation_ids:
            items = self._partition(keys.conversation_pk(conversation_id))
            meta = next((i for i in items if i[schema.SK] == keys.META_SK), {})
            messages = [_clean(i) for i in items if str(i[schema.SK]).startswith(keys.MESSAGE_SK_PREFIX)]
            for i in items:
                if i[schema.SK] == keys.CSAT_SK:
                    ratings.append(_clean(i))
            other = [_clean(i) for i in items if i[schema.SK] not in (keys.META_SK, keys.CSAT_SK)
                     and not str(i[schema.SK]).startswith(keys.MESSAGE_SK_PREFIX)]
            miss_keys = [encode(k) for i in items if (k := _miss_key(i)) is not None]
            misses = [_clean(m) for m in (self._table.batch_get(miss_keys) if miss_keys else [])]
            conversations.append({"conversation": _clean(meta), "messages": messages, "other": other,
                                  "misses": misses})
        tickets = []
        for ticket in self._tickets.for_customer(customer_id):
            audit = self._partition(keys.ticket_pk(ticket.ticket_id), keys.AUDIT_SK_PREFIX)
            tickets.append({"ticket": ticket.model_dump(mode="json"), "audit": [_clean(a) for a in audit]})
        merges = [_clean(m) for m in self._listed(customer_id, keys.MERGE_GSI1_PREFIX)]
        identity_lookups = [_clean(a) for i in identities
                            for a in self._partition(keys.identity_access_pk(str(i["channel"]),
                                                                              str(i["external_id"])))]
        pid = self.pseudonym(customer_id)
        events = [e for key in self._objects(ANALYTICS_PREFIXES) for e in self._read_events(key)
                  if e.get("customer_pid") == pid]
        profile = next((i for i in own if i[schema.SK] == keys.PROFILE_SK), None)
        return {
            "customer_id": customer_id,
            "exported_ms": self._now(),
            "profile": _clean(profile) if profile else None,
            "identities": [_clean(i) for i in identities],
            "conversations": conversations,
            "tickets": tickets,
            "ratings": ratings,
            "consent": {"current": [_clean(i) for i in own if str(i[schema.SK]).startswith(keys.CONSENT_SK_PREFIX)],
                        "history": [_clean(i) for i in own
                                    if str(i[schema.SK]).startswith(keys.CONSENT_LOG_SK_PREFIX)]},
            "merges": merges,
            "connections": [_clean(c) for c in self._listed(customer_id, keys.CONNECTION_GSI_PREFIX)],
            "other_records": [_clean(i) for i in own if i[schema.SK] != keys.PROFILE_SK
                              and not str(i[schema.SK]).startswith((keys.CONSENT_SK_PREFIX,
                                                                    keys.CONSENT_LOG_SK_PREFIX))],
            "access_log": [_clean(a) for a in self._partition(keys.customer_access_pk(customer_id))],
            "identity_lookups": identity_lookups,
            "analytics": {"pseudonym": pid, "events": events},
        }

    # -- erasure ------------------------------------------------------------------------------

    def erasure(self, customer_id: str) -> ErasureRecord | None:
        item = self._table.get(self._record_key(self.erasure_id(customer_id)), consistent=True)
        return ErasureRecord.model_validate(item) if item else None

    def erase(self, customer_id: str, reason: str, actor_id: str) -> tuple[ErasureRecord, bool]:
        """Erase (or finish erasing) the customer; (the record, whether it had been completed before)."""
        erasure_id = self.erasure_id(customer_id)
        existing = self.erasure(customer_id)
        if existing is not None and existing.status == "completed":
            if self._now() - (existing.completed_ms or 0) < STREAM_LAG_MS:
                # events that were still in the interaction stream when the erasure ran are archived since
                self._erase_analytics(customer_id, existing)
            return existing, True
        if existing is None:
            own = self._partition(keys.customer_pk(customer_id))
            if not own and not self._listed(customer_id, keys.IDENTITY_GSI1_PREFIX) \
                    and not self._conversation_ids(customer_id):
                raise NotFound(f"customer {customer_id} not found")
            record = ErasureRecord(erasure_id=erasure_id, status="in_progress", actor_id=actor_id,
                                   reason=self._redact(reason), requested_ms=self._now())
        else:
            record = existing.model_copy(update={"attempts": existing.attempts + 1})
        self._save(record)
        steps: dict[str, Callable[[str, ErasureRecord], int]] = {
            "analytics": self._erase_analytics, "originals": self._erase_originals, "tickets": self._erase_tickets,
            "conversations": self._erase_conversations, "access_audit": self._erase_access_audit,
            "identities": self._erase_identities, "connections": self._erase_connections,
            "customer": self._erase_customer_partition,
        }
        for step in STEPS:
            if step in record.steps_done:
                continue
            removed = steps[step](customer_id, record)
            record = record.model_copy(update={"steps_done": [*record.steps_done, step],
                                               "removed": {**record.removed, step: removed}})
            self._save(record)
        record = record.model_copy(update={"status": "completed", "completed_ms": self._now()})
        self._save(record)
        return record, False

    def _record_key(self, erasure_id: str) -> dict[str, Any]:
        return encode({schema.PK: keys.erasure_pk(erasure_id), schema.SK: keys.ERASURE_SK})

    def _save(self, record: ErasureRecord) -> None:
        self._table.put_item(Item=encode({schema.PK: keys.erasure_pk(record.erasure_id), schema.SK: keys.ERASURE_SK,
                                          "type": "erasure", **record.model_dump(exclude_none=True)}))

    def _delete(self, item: dict[str, Any]) -> None:
        self._table.delete_item(Key=encode({schema.PK: item[schema.PK], schema.SK: item[schema.SK]}))

    # Each step: idempotent; returns how many items or objects it removed or rewrote.

    def _erase_analytics(self, customer_id: str, record: ErasureRecord) -> int:
        pid = self.pseudonym(customer_id)
        replacement = secrets.token_hex(16)  # stored nowhere: the events can no longer be tied to anyone
        changed = 0
        for key in list(self._objects(ANALYTICS_PREFIXES)):
            events = self._read_events(key)
            if not any(e.get("customer_pid") == pid for e in events):
                continue
            rewritten = [{k: v for k, v in e.items() if k not in FREE_TEXT_EVENT_FIELDS} | {"customer_pid": replacement}
                         if e.get("customer_pid") == pid else e for e in events]
            body = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in rewritten)
            self._s3().put_object(Bucket=self._bucket(), Key=key, Body=gzip.compress(body.encode(), mtime=0),
                                  ContentType="application/x-ndjson", ContentEncoding="gzip")
            changed += 1
        for key in list(self._objects(POISON_PREFIXES)):
            raw = self._s3().get_object(Bucket=self._bucket(), Key=key)["Body"].read().decode("utf-8", "replace")
            if pid in raw or customer_id in raw or _mentions(raw, (pid, customer_id)):
                self._s3().delete_object(Bucket=self._bucket(), Key=key)
                changed += 1
        return changed

    def _erase_originals(self, customer_id: str, record: ErasureRecord) -> int:
        removed = 0
        for conversation_id in self._conversation_ids(customer_id):
            for item in self._partition(keys.conversation_pk(conversation_id), keys.MESSAGE_SK_PREFIX):
                original = (item.get("meta") or {}).get("original_text")
                if isinstance(original, dict) and original.get("s3_key"):
                    self._s3().delete_object(Bucket=self._bucket(), Key=str(original["s3_key"]))
                    removed += 1
        return removed

    def _erase_tickets(self, customer_id: str, record: ErasureRecord) -> int:
        tickets = self._tickets.for_customer(customer_id)
        for ticket in tickets:
            self._table.update_item(
                Key=encode({schema.PK: keys.ticket_pk(ticket.ticket_id), schema.SK: keys.TICKET_META_SK}),
                UpdateExpression="SET subject = :e, description = :empty, erased = :true "
                                 "REMOVE customer_id, conversation_id, channel",
                ExpressionAttributeValues={":e": encode_value(ERASED), ":empty": encode_value(""),
                                           ":true": encode_value(True)})
            for entry in self._partition(keys.ticket_pk(ticket.ticket_id), keys.AUDIT_SK_PREFIX):
                if str(entry.get("actor", "")).startswith("customer:") and entry["actor"] != CUSTOMER_ERASED:
                    self._table.update_item(  # the customer's own confirmation or reopening
                        Key=encode({schema.PK: entry[schema.PK], schema.SK: entry[schema.SK]}),
                        UpdateExpression="SET actor = :a",
                        ExpressionAttributeValues={":a": encode_value(CUSTOMER_ERASED)})
                comment = (entry.get("changes") or {}).get("comment")
                if isinstance(comment, dict) and comment.get("text") != ERASED:
                    self._table.update_item(
                        Key=encode({schema.PK: entry[schema.PK], schema.SK: entry[schema.SK]}),
                        UpdateExpression="SET changes.#comment.#text = :e",
                        ExpressionAttributeNames={"#comment": "comment", "#text": "text"},
                        ExpressionAttributeValues={":e": encode_value(ERASED)})
        return len(tickets)

    def _erase_conversations(self, customer_id: str, record: ErasureRecord) -> int:
        removed = 0
        for conversation_id in self._conversation_ids(customer_id):
            items = self._partition(keys.conversation_pk(conversation_id))
            meta = next((i for i in items if i[schema.SK] == keys.META_SK), None)
            for item in items:
                if item is meta:
                    continue
                if item.get("dedup_ref"):
                    self._delete({schema.PK: item["dedup_ref"], schema.SK: keys.DEDUP_SK})
                if str(item[schema.SK]).startswith(keys.MESSAGE_SK_PREFIX) and item.get("message_id"):
                    removed += self._erase_outbox(str(item["message_id"]), str(item.get("channel") or ""))
                    if (miss := _miss_key(item)) is not None:  # issue 14: the question kept for KB review
                        self._delete(miss)
                self._delete(item)
                removed += 1
            if meta is not None:
                for agent in {meta.get("assigned_agent"), meta.get("offered_agent")} - {None}:
                    self._delete({schema.PK: keys.agent_pk(str(agent)), schema.SK: keys.work_sk(conversation_id)})
                if meta.get("priority") is not None:
                    queued = int(meta.get("queued_ms") or meta.get("created_ms") or 0)
                    entry = keys.queue_sk(int(meta["priority"]), queued, conversation_id)
                    self._delete({schema.PK: keys.waiting_queue_pk(entry), schema.SK: entry})
                self._delete(meta)  # last: it is what lists the conversation under the customer
                removed += 1
        return removed

    def _erase_outbox(self, message_id: str, channel: str) -> int:
        parts = self._partition(keys.outbound_part_pk(message_id))
        for part in parts:
            if part.get("platform_message_id") and channel:
                self._delete({schema.PK: keys.platform_message_pk(channel, str(part["platform_message_id"])),
                              schema.SK: keys.PLATFORM_MESSAGE_SK})
            self._delete(part)
        return len(parts)

    def _erase_access_audit(self, customer_id: str, record: ErasureRecord) -> int:
        entries = self._partition(keys.customer_access_pk(customer_id))
        reference = f"erased:{record.erasure_id[:16]}"
        for entry in entries:
            moved = {**entry, schema.PK: keys.customer_access_pk(reference), "customer_id": reference,
                     "identity": None}  # a look-up by channel identity named their external id
            self._table.put_item(Item=encode(moved))
            self._delete(entry)
        return len(entries)

    def _erase_identities(self, customer_id: str, record: ErasureRecord) -> int:
        removed = 0
        for merge in self._listed(customer_id, keys.MERGE_GSI1_PREFIX):
            self._delete(merge)
            removed += 1
        profile = self._table.get(encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.PROFILE_SK}),
                                  consistent=True) or {}
        if profile.get("merge_id"):  # merged into another customer: the merge's record names this one
            self._delete({schema.PK: keys.merge_pk(str(profile["merge_id"])), schema.SK: keys.MERGE_SK})
        for identity in self._listed(customer_id, keys.IDENTITY_GSI1_PREFIX):
            for lookup in self._partition(keys.identity_access_pk(str(identity["channel"]),
                                                                  str(identity["external_id"]))):
                self._delete(lookup)
                removed += 1
            self._delete(identity)
            removed += 1
        return removed

    def _erase_connections(self, customer_id: str, record: ErasureRecord) -> int:
        connections = self._listed(customer_id, keys.CONNECTION_GSI_PREFIX)
        for connection in connections:
            self._delete(connection)
        return len(connections)

    def _erase_customer_partition(self, customer_id: str, record: ErasureRecord) -> int:
        items = self._partition(keys.customer_pk(customer_id))
        for item in items:
            self._delete(item)
        return len(items)


def _miss_key(item: dict[str, Any]) -> dict[str, Any] | None:
    """Where a customer message's miss (the bot's fallback, handoff ... kept for KB review) would be."""
    if not str(item.get(schema.SK, "")).startswith(keys.MESSAGE_SK_PREFIX) or not item.get("message_id"):
        return None
    if (item.get("sender") or {}).get("type") != "customer" or item.get("ts_ms") is None:
        return None
    pk, sk = keys.miss_key(int(item["ts_ms"]), str(item["message_id"]))
    return {schema.PK: pk, schema.SK: sk}


def _mentions(poison: str, needles: tuple[str, ...]) -> bool:
    """Whether a poison record's base64 `raw_data` (the Kinesis payload) contains one of `needles`."""
    try:
        data = json.loads(poison).get("raw_data")
        decoded = base64.b64decode(data).decode("utf-8", "replace") if isinstance(data, str) else ""
    except (ValueError, binascii.Error, AttributeError):
        return False
    return any(n in decoded for n in needles)


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item without its key attributes (`dedup_ref` included: an internal pointer)."""
    return {k: sorted(v) if isinstance(v, (set, frozenset)) else v  # DynamoDB sets as JSON lists
            for k, v in item.items() if k not in KEY_ATTRIBUTES and k != "dedup_ref"}
