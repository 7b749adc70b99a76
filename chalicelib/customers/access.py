"""Who may read a customer, and the audit of every read (issue 13, class 5).

The rule the agent workspace already applies to conversations, applied to customers: an agent
(role `agent`) sees a customer only while a conversation of that customer is offered or assigned
to them (their `WORK#` items; a conversation a merge moved counts for its new customer); an agent
id that was never registered sees nothing; supervisors and admins see every customer. "Not yours"
and "does not exist" answer alike for agents (403), so customer ids and identities cannot be probed.

Every read through `/customers/...` - allowed, denied or not found - is written to the access
audit before anything is returned (if the audit cannot be written, nothing is returned): an entry
`ACCESS#CUST#<customer>` / `<at ms>#<audit id>`, listed under the reader on gsi1
(`AGENT#<reader>` / `ACCESS#<at ms>#<audit id>`), kept `ACCESS_AUDIT_RETENTION_DAYS`.
Supervisors and admins query it by customer or by reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from chalicelib import ids
from chalicelib.auth.roles import SUPERVISORS
from chalicelib.errors import DomainError, Forbidden, InvalidInput, NotFound
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.auth.tokens import AgentClaims
    from chalicelib.routing.store import RoutingStore
    from chalicelib.store.conversation_store import ConversationStore
    from chalicelib.store.identity_store import IdentityStore
    from chalicelib.store.table import Table

ACCESS_AUDIT_RETENTION_DAYS = 400
AUDIT_READERS = ("supervisor", "admin")
AUDIT_PAGE_MAX = 200

Action = Literal["profile", "timeline", "lookup", "export", "consent"]  # export, consent: issue 16
Outcome = Literal["allowed", "denied", "not_found"]


T = TypeVar("T")


class AccessEntry(BaseModel):
    """One read of a customer's data: who, what, when, and what they were answered."""

    model_config = ConfigDict(extra="ignore")

    audit_id: str
    customer_id: str | None = None
    identity: dict[str, str] | None = None  # a look-up by channel identity
    actor_id: str
    actor_role: str
    action: Action
    outcome: Outcome
    reason: str | None = None
    at_ms: int


class AccessAudit:
    """The access audit in the single table (append-only)."""

    def __init__(self, table: Table, clock: Callable[[], int] = ids.now_ms) -> None:
        self._table = table
        self._now = clock

    def record(self, *, actor_id: str, actor_role: str, action: Action, outcome: Outcome,
               customer_id: str | None = None, identity: dict[str, str] | None = None,
               reason: str | None = None) -> AccessEntry:
        entry = AccessEntry(audit_id=ids.new_id("acc"), customer_id=customer_id, identity=identity,
                            actor_id=actor_id, actor_role=actor_role, action=action, outcome=outcome,
                            reason=reason, at_ms=self._now())
        ref = identity or {}
        pk = (keys.customer_access_pk(customer_id) if customer_id is not None
              else keys.identity_access_pk(ref.get("channel", ""), ref.get("external_id", "")))
        gsi1pk, gsi1sk = keys.reader_access_gsi1(actor_id, entry.at_ms, entry.audit_id)
        item = {schema.PK: pk, schema.SK: keys.access_sk(entry.at_ms, entry.audit_id), schema.GSI1_PK: gsi1pk,
                schema.GSI1_SK: gsi1sk, "type": "access", **entry.model_dump(exclude_none=True),
                schema.TTL_ATTRIBUTE: entry.at_ms // 1000 + ACCESS_AUDIT_RETENTION_DAYS * 86400}
        self._table.put_item(Item=encode(item), ConditionExpression="attribute_not_exists(pk)")
        return entry

    def for_customer(self, customer_id: str, limit: int = 50) -> list[AccessEntry]:
        """Reads of one customer, newest first."""
        page = self._table.query(KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues={":pk": encode_value(keys.customer_access_pk(customer_id))},
                              ScanIndexForward=False, Limit=limit)
        return [AccessEntry.model_validate(decode(i)) for i in page.get("Items", [])]

    def by_reader(self, actor_id: str, limit: int = 50) -> list[AccessEntry]:
        """Reads by one agent, supervisor or admin, newest first."""
        pk, _ = keys.reader_access_gsi1(actor_id, 0, "")
        page = self._table.query(IndexName=schema.GSI1,
                              KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
                              ExpressionAttributeValues={":pk": encode_value(pk),
                                                         ":prefix": encode_value(keys.READER_ACCESS_GSI1_PREFIX)},
                              ScanIndexForward=False, Limit=limit)
        return [AccessEntry.model_validate(decode(i)) for i in page.get("Items", [])]


class CustomerAccess:
    """Applies the rule to each read and records it.

    `agents` is the routing store (`get_agent`, `work_items`), `conversations` the conversation store
    (`get_conversation`), `identities` the identity store (`get`).
    """

    def __init__(self, agents: RoutingStore, conversations: ConversationStore, identities: IdentityStore,
                 audit: AccessAudit) -> None:
        self._agents = agents
        self._conversations = conversations
        self._identities = identities
        self.audit = audit

    # -- the rule ---------------------------------------------------------------------------

    def denial(self, actor_id: str, role: str, customer_id: str | None) -> DomainError | None:
        """Why `actor_id` may not read `customer_id` (None: they may)."""
        if role in SUPERVISORS:
            return None
        if role != "agent" or self._agents.get_agent(actor_id) is None:
            return Forbidden("agent is not registered", code="agent_not_registered")
        if customer_id is not None:
            work = self._agents.work_items(actor_id)
            if any(w.customer_id == customer_id for w in work):
                return None
            for w in work:  # a merge moves conversations to another customer; the work item keeps the old id
                conversation = self._conversations.get_conversation(w.conversation_id)
                if conversation is not None and conversation.customer_id == customer_id:
                    return None
        return Forbidden("this customer is not yours", code="forbidden")

    # -- audited reads ----------------------------------------------------------------------

    def read(self, claims: AgentClaims, customer_id: str, action: Action, fetch: Callable[[], T]) -> T:
        """`fetch()` if `claims` may read `customer_id`; the read is audited whatever the outcome."""
        return self._audited(claims, action, customer_id, None, lambda: fetch())

    def lookup(self, claims: AgentClaims, channel: str | None, external_id: str | None,
               fetch: Callable[[str], T]) -> T:
        """The customer behind a channel identity, under the same rule (and audited)."""
        if not channel or not external_id:
            raise InvalidInput("channel and external_id are required", code="missing_field")
        identity = self._identities.get(channel, external_id)
        customer_id = identity.customer_id if identity is not None else None
        ref = {"channel": channel, "external_id": external_id}

        def found() -> T:
            if customer_id is None:
                raise NotFound(f"no customer for {channel} identity {external_id}")
            return fetch(customer_id)

        return self._audited(claims, "lookup", customer_id, ref, found)

    def _audited(self, claims: AgentClaims, action: Action, customer_id: str | None,
                 identity: dict[str, str] | None, fetch: Callable[[], T]) -> T:
        def record(outcome: Outcome, reason: str | None = None) -> None:
            self.audit.record(actor_id=claims.sub, actor_role=claims.role, action=action, outcome=outcome,
                              customer_id=customer_id, identity=identity, reason=reason)

        refused = self.denial(claims.sub, claims.role, customer_id)
        if refused is not None:
            record("denied", refused.code)
            raise refused
        try:
            result = fetch()
        except NotFound:
            record("not_found")
            raise
        record("allowed")
        return result

    # -- the audit, for supervisors ------------------------------------------------------------

    def entries(self, claims: AgentClaims, *, customer_id: str | None = None, agent_id: str | None = None,
                limit: int = 50) -> dict[str, Any]:
        if claims.role not in AUDIT_READERS:
            raise Forbidden("the access audit is for supervisors and admins", code="role_forbidden")
        limit = max(1, min(limit, AUDIT_PAGE_MAX))
        if customer_id is not None:
            found = self.audit.for_customer(customer_id, limit)
        elif agent_id:
            found = self.audit.by_reader(agent_id, limit)
        else:
            raise InvalidInput("give agent_id", code="missing_field")
        return {"entries": [e.model_dump(exclude_none=True) for e in found]}
