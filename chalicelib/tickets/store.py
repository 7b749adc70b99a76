"""Tickets in the single table: every change is one transaction of the new ticket (conditional on
the version read) and its audit entry, so concurrent edits never silently overwrite each other."""

from __future__ import annotations

from typing import Any

from chalicelib import ids
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.table import Table, TransactionCancelled
from chalicelib.tickets.models import AuditEntry, SlaPolicy, Ticket


class VersionConflict(Exception):
    """The ticket changed (or already exists) since it was read."""


class TicketStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _item(self, ticket: Ticket) -> dict[str, Any]:
        item: dict[str, Any] = {schema.PK: keys.ticket_pk(ticket.ticket_id), schema.SK: keys.TICKET_META_SK,
                                **ticket.model_dump(mode="json")}
        item[schema.GSI1_PK], item[schema.GSI1_SK] = keys.tickets_by_status_gsi1(
            ticket.status, ticket.created_ms, ticket.ticket_id)
        due = _next_due(ticket)
        if due is not None:
            item[schema.GSI2_PK], item[schema.GSI2_SK] = keys.sla_watch_gsi2(due, ticket.ticket_id)
        return item

    def save(self, ticket: Ticket, audit: AuditEntry, *, expected_version: int | None) -> None:
        """Create (expected_version None) or replace the ticket, writing its audit entry with it."""
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {"ConditionExpression": "version = :v",
                         "ExpressionAttributeValues": {":v": encode_value(expected_version)}}
        audit_item = {schema.PK: keys.ticket_pk(ticket.ticket_id),
                      schema.SK: f"{keys.AUDIT_SK_PREFIX}{audit.at_ms:013d}#{ids.new_id()}", **audit.model_dump()}
        writes: list[dict[str, Any]] = [
            {"Put": {"Item": encode(self._item(ticket)), **condition}},
            {"Put": {"Item": encode(audit_item)}},
        ]
        if ticket.customer_id:  # the customer's list of tickets (issue 16): a link item in their partition
            writes.append({"Put": {"Item": encode({
                schema.PK: keys.customer_pk(ticket.customer_id),
                schema.SK: keys.customer_ticket_sk(ticket.created_ms, ticket.ticket_id),
                "type": "ticket_link", "ticket_id": ticket.ticket_id})}})
        try:
            self._table.transact(writes)
        except TransactionCancelled as exc:
            if exc.condition_failed:
                raise VersionConflict(ticket.ticket_id) from exc
            raise

    def get(self, ticket_id: str) -> Ticket | None:
        result = self._table.get_item(ConsistentRead=True,
                                   Key=encode({schema.PK: keys.ticket_pk(ticket_id), schema.SK: keys.TICKET_META_SK}))
        item = decode(result.get("Item"))
        return Ticket.model_validate(item) if item else None

    def audit(self, ticket_id: str) -> list[AuditEntry]:
        items = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
                          ExpressionAttributeValues={":pk": encode_value(keys.ticket_pk(ticket_id)),
                                                     ":a": encode_value(keys.AUDIT_SK_PREFIX)})
        return [AuditEntry.model_validate(decode(i)) for i in items]

    def for_customer(self, customer_id: str) -> list[Ticket]:
        """The customer's tickets, oldest first (Query pk=CUST#id AND begins_with(sk, TICKET#), then each)."""
        links = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :t)",
                                      ExpressionAttributeValues={
                                          ":pk": encode_value(keys.customer_pk(customer_id)),
                                          ":t": encode_value(keys.TICKET_LINK_SK_PREFIX)})
        found = [self.get(str((decode(link) or {})["ticket_id"])) for link in links]
        return [t for t in found if t is not None]

    def by_status(self, status: str, limit: int = 100) -> list[Ticket]:
        page = self._table.query(IndexName=schema.GSI1, Limit=limit,
                              KeyConditionExpression="gsi1pk = :pk",
                              ExpressionAttributeValues={":pk": encode_value(keys.tickets_by_status_pk(status))})
        return [Ticket.model_validate(decode(i)) for i in page.get("Items", [])]

    def due(self, now_ms: int, limit: int = 200) -> list[Ticket]:
        """Tickets whose SLA deadline or reminder is due (Query gsi2 SLA#WATCH, gsi2sk <= now)."""
        page = self._table.query(IndexName=schema.GSI2, Limit=limit,
                              KeyConditionExpression="gsi2pk = :pk AND gsi2sk <= :now",
                              ExpressionAttributeValues={":pk": encode_value(keys.SLA_WATCH_GSI2_PK),
                                                         ":now": encode_value(f"{now_ms:013d}~")})
        return [Ticket.model_validate(decode(i)) for i in page.get("Items", [])]

    def get_policy(self, priority: str) -> SlaPolicy | None:
        result = self._table.get_item(Key=encode({schema.PK: keys.CONFIG_PK,
                                                                      schema.SK: keys.sla_policy_sk(priority)}))
        item = decode(result.get("Item"))
        return SlaPolicy.model_validate(item["policy"]) if item else None

    def put_policy(self, priority: str, policy: SlaPolicy) -> None:
        self._table.put_item(Item=encode({schema.PK: keys.CONFIG_PK,
                                                              schema.SK: keys.sla_policy_sk(priority),
                                                              "policy": policy.model_dump()}))


def _next_due(ticket: Ticket) -> int | None:
    """The next instant the SLA sweep must look at this ticket (None: nothing to watch)."""
    if ticket.status in ("solved", "closed"):
        return None
    candidates = []
    if ticket.first_response_ms is None and ticket.first_response_due_ms and "first_response" not in ticket.breaches:
        candidates.append(ticket.first_response_due_ms)
    if ticket.resolution_due_ms and "resolution" not in ticket.breaches:
        candidates.append(ticket.resolution_due_ms)
    if ticket.next_reminder_ms:
        candidates.append(ticket.next_reminder_ms)
    return min(candidates) if candidates else None
