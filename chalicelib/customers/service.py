"""Unified customer identity: look-up by channel identity, profile, one timeline, explicit merges.

Nothing is merged automatically (not even on an equal phone number or e-mail address): the
company's backend, having verified that two identities are one person, asks for
`merge(target, source)`. The source customer's identities and conversations move to the target
(conditional updates, each listed in an audit record `MERGE#<audit id>`); if only the source has
an open conversation it becomes the target's open conversation, and if both have one the
source's is closed with reason `merged`. So the history of every channel is one timeline and the
next message on any channel continues the target's open conversation. `undo(target, audit id)`
moves back exactly what that merge moved (still where the merge put it); a conversation the
merge closed stays closed.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib import ids
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.store.identity_store import IdentityStore, MergeRecord

if TYPE_CHECKING:
    from chalicelib.store.conversation_store import ConversationStore

TIMELINE_CONVERSATIONS = 20
TIMELINE_MAX = 500


class IdentityRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=32)
    external_id: str = Field(min_length=1, max_length=256)


class MergeRequest(BaseModel):
    """Body of `POST /customers/{id}/merge`: exactly one of `source_customer_id` or `source_identity`."""

    model_config = ConfigDict(extra="forbid")

    source_customer_id: str | None = Field(default=None, min_length=1, max_length=128)
    source_identity: IdentityRef | None = None
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_source(self) -> MergeRequest:
        if (self.source_customer_id is None) == (self.source_identity is None):
            raise ValueError("give exactly one of source_customer_id or source_identity")
        return self


class UndoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class CustomerService:
    def __init__(self, identities: IdentityStore, conversation_store: ConversationStore) -> None:
        self._identities = identities
        self._store = conversation_store

    # -- reads -------------------------------------------------------------------------------

    def lookup(self, channel: str | None, external_id: str | None) -> dict[str, Any]:
        if not channel or not external_id:
            raise InvalidInput("channel and external_id are required", code="missing_field")
        identity = self._identities.get(channel, external_id)
        if identity is None:
            raise NotFound(f"no customer for {channel} identity {external_id}")
        return self.profile(identity.customer_id)

    def profile(self, customer_id: str) -> dict[str, Any]:
        profile = self._identities.customer_profile(customer_id)
        identities = self._identities.for_customer(customer_id)
        if profile is None and not identities:
            raise NotFound(f"customer {customer_id} not found")
        profile = profile or {"customer_id": customer_id}
        return {
            "customer_id": customer_id,
            "name": profile.get("name"),
            "vip": bool(profile.get("vip", False)),
            "created_ms": profile.get("created_ms"),
            "merged_into": profile.get("merged_into"),
            "identities": [i.model_dump(exclude_none=True) for i in identities],
            "merges": [_merge_view(m) for m in self._identities.merges_into(customer_id)],
        }

    def timeline(self, customer_id: str, limit: int = 200) -> dict[str, Any]:
        """The customer's messages from every channel and conversation, oldest first (the latest `limit`)."""
        limit = max(1, min(int(limit), TIMELINE_MAX))
        conversations = self._store.list_customer_conversations(customer_id, limit=TIMELINE_CONVERSATIONS)
        if not conversations and self._identities.customer_profile(customer_id) is None:
            raise NotFound(f"customer {customer_id} not found")
        streams = []
        for conversation in conversations:
            messages, _ = self._store.list_messages(conversation.conversation_id, limit=limit)
            streams.append([(m.ts_ms, m.conversation_id, m.seq, m) for m in messages])
        merged = [entry[3] for entry in heapq.merge(*streams, key=lambda e: e[:3])][-limit:]
        return {
            "customer_id": customer_id,
            "conversations": [c.model_dump(exclude_none=True) for c in reversed(conversations)],
            "messages": [m.model_dump(exclude_none=True) for m in merged],
        }

    # -- merges ------------------------------------------------------------------------------

    def merge(self, target_id: str, request: MergeRequest, actor_id: str, actor_role: str) -> dict[str, Any]:
        if request.source_identity is not None:
            identity = self._identities.get(request.source_identity.channel, request.source_identity.external_id)
            if identity is None:
                raise NotFound("no customer has that identity")
            source_id = identity.customer_id
        else:
            source_id = request.source_customer_id or ""
        if source_id == target_id:
            raise Conflict("source and target are already the same customer", code="already_merged")
        target = self._identities.customer_profile(target_id)
        source = self._identities.customer_profile(source_id)
        if target is None:
            raise NotFound(f"customer {target_id} not found")
        if source is None:
            raise NotFound(f"customer {source_id} not found")
        for profile in (target, source):
            if profile.get("merged_into"):
                raise Conflict(f"customer {profile['customer_id']} was merged into {profile['merged_into']}",
                               code="already_merged")
        audit_id = ids.new_id("mrg")
        record = MergeRecord(audit_id=audit_id, target_customer_id=target_id, source_customer_id=source_id,
                             actor_id=actor_id, actor_role=actor_role, reason=request.reason,
                             created_ms=ids.now_ms())
        # The open conversation first, while the OPEN pointers still say who has what.
        source_open = self._store.open_conversation_id(source_id)
        if source_open:
            if self._store.open_conversation_id(target_id) is None and \
                    self._identities.move_open_pointer(source_open, source_id, target_id):
                record.open_moved = source_open
            elif self._store.close_conversation(source_open, source_id, "merged"):
                record.open_closed = source_open
        for identity in self._identities.for_customer(source_id):
            if self._identities.reassign(identity.channel, identity.external_id, source_id, target_id, audit_id):
                record.identities.append({"channel": identity.channel, "external_id": identity.external_id})
        for conversation_id in self._identities.conversation_ids(source_id):
            if self._identities.move_conversation(conversation_id, source_id, target_id):
                record.conversations.append(conversation_id)
        self._identities.mark_merged(source_id, target_id, audit_id)
        self._identities.put_merge(record)
        return _merge_view(record)

    def undo(self, target_id: str, audit_id: str, actor_id: str) -> dict[str, Any]:
        record = self._identities.get_merge(audit_id)
        if record is None or record.target_customer_id != target_id:
            raise NotFound(f"merge {audit_id} of customer {target_id} not found")
        if record.status == "undone" or not self._identities.mark_undone(audit_id, actor_id):
            raise Conflict(f"merge {audit_id} was already undone", code="already_undone")
        source_id = record.source_customer_id
        for ref in record.identities:
            self._identities.reassign(ref["channel"], ref["external_id"], target_id, source_id, None)
        for conversation_id in record.conversations:
            self._identities.move_conversation(conversation_id, target_id, source_id)
        if record.open_moved and self._store.open_conversation_id(target_id) == record.open_moved:
            self._identities.move_open_pointer(record.open_moved, target_id, source_id)
        self._identities.mark_merged(source_id, None, audit_id)
        undone = self._identities.get_merge(audit_id)
        return _merge_view(undone or record)


def _merge_view(record: MergeRecord) -> dict[str, Any]:
    return record.model_dump(exclude_none=True)
