"""Ticket life cycle: creation from a conversation, the API or a channel; SLA deadlines that count
business hours; the sweep that flags breaches, alerts supervisors and sends follow-up reminders.
Every change writes an audit entry in the same transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.core.events import EscalatedOutOfHours, SlaBreached, SlaKind, TicketChanged, TicketCommented
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.tickets.models import (
    DEFAULT_SLA,
    TRANSITIONS,
    AuditEntry,
    Ticket,
    TicketInput,
    TicketPatch,
    TicketSource,
)
from chalicelib.tickets.store import TicketStore, VersionConflict

if TYPE_CHECKING:
    from chalicelib.routing.models import DeskConfig

logger = Logger(child=True)

Notify = Callable[[str | None, dict[str, Any]], None]  # (assignee or None for supervisors only, frame)


class TicketService:
    def __init__(self, store: TicketStore, desk_config: Callable[[], DeskConfig], notify: Notify,
                 publish: Callable[[object], None], clock: Callable[[], int] = ids.now_ms) -> None:
        self.store = store
        self._desk = desk_config
        self._notify = notify
        self._publish = publish
        self._now = clock

    # -- creation -----------------------------------------------------------------------------

    def create(self, data: TicketInput, *, actor: str, source: TicketSource = "api",
               idempotency_key: str | None = None) -> Ticket:
        """Open a ticket with SLA deadlines; the same `idempotency_key` always yields the same ticket."""
        now = self._now()
        ticket_id = (f"tkt_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:26].upper()}"
                     if idempotency_key else ids.new_id("tkt"))
        first_due, resolution_due = self._deadlines(data.priority, now)
        ticket = Ticket(ticket_id=ticket_id, source=source, created_ms=now, updated_ms=now,
                        status="open" if data.assignee else "new",
                        first_response_due_ms=first_due, resolution_due_ms=resolution_due, **data.model_dump())
        try:
            self.store.save(ticket, AuditEntry(ticket_id=ticket_id, at_ms=now, actor=actor, action="created",
                                               changes={"source": source, "priority": data.priority}),
                            expected_version=None)
        except VersionConflict:
            existing = self.store.get(ticket_id)
            if existing is None:
                raise
            return existing
        logger.info("ticket created", extra={"ticket_id": ticket_id, "ticket_source": source})
        self._publish(_changed(ticket, None, now))
        return ticket

    def on_escalated_out_of_hours(self, event: EscalatedOutOfHours) -> None:
        """Out of hours, an escalation becomes a ticket (once per escalation) for the next shift."""
        data = TicketInput(subject=f"Out-of-hours request: {event.reason}"[:300], customer_id=event.customer_id,
                           conversation_id=event.conversation_id, priority="high" if event.urgent else "normal",
                           tags=["offline", *event.skills][:20])
        self.create(data, actor="system:routing", source="offline_escalation",
                    idempotency_key=f"offline#{event.idempotency_key}")

    def create_from_channel(self, *, channel: str, customer_id: str, subject: str, text: str,
                            message_id: str, conversation_id: str | None = None) -> Ticket:
        """For the e-mail / generic channel: one ticket per inbound platform message id."""
        data = TicketInput(subject=subject[:300] or "(no subject)", description=text[:20000], customer_id=customer_id,
                           conversation_id=conversation_id, channel=channel)
        return self.create(data, actor=f"channel:{channel}", source="email" if channel == "email" else "channel",
                           idempotency_key=f"{channel}#{message_id}")

    def _deadlines(self, priority: str, start_ms: int) -> tuple[int, int]:
        policy = self.store.get_policy(priority) or DEFAULT_SLA[priority]
        hours = self._desk().business_hours if policy.business_hours else None
        if hours is None:
            return (start_ms + policy.first_response_minutes * 60_000, start_ms + policy.resolution_minutes * 60_000)
        return (hours.add_business_seconds(start_ms, policy.first_response_minutes * 60),
                hours.add_business_seconds(start_ms, policy.resolution_minutes * 60))

    # -- changes ------------------------------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket:
        ticket = self.store.get(ticket_id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        return ticket

    def update(self, ticket_id: str, patch: TicketPatch, *, actor: str) -> Ticket:
        ticket = self.get(ticket_id)
        now = self._now()
        changes: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        if patch.status and patch.status != ticket.status:
            if patch.status not in TRANSITIONS[ticket.status]:
                raise InvalidInput(f"a {ticket.status} ticket cannot become {patch.status}", code="invalid_transition")
            fields["status"] = patch.status
            if patch.status == "solved":
                fields["solved_ms"] = now
                fields["next_reminder_ms"] = None
            if patch.status == "open" and ticket.status == "solved":
                fields["solved_ms"] = None  # reopened
            if patch.status in ("pending", "solved") and ticket.first_response_ms is None:
                fields["first_response_ms"] = now
        if patch.priority and patch.priority != ticket.priority:
            fields["priority"] = patch.priority
            fields["first_response_due_ms"], fields["resolution_due_ms"] = self._deadlines(patch.priority,
                                                                                         ticket.created_ms)
        if patch.unassign and ticket.assignee:
            fields["assignee"] = None
        elif patch.assignee and patch.assignee != ticket.assignee:
            fields["assignee"] = patch.assignee
            if ticket.status == "new" and "status" not in fields:
                fields["status"] = "open"
        if patch.tags is not None and patch.tags != ticket.tags:
            fields["tags"] = patch.tags
        if patch.comment:
            changes["comment"] = {"text": patch.comment, "public": patch.public}
            if patch.public and ticket.first_response_ms is None:
                fields["first_response_ms"] = now
        if not fields and not changes:
            return ticket
        changes.update({k: {"from": getattr(ticket, k), "to": v} for k, v in fields.items()
                        if k in ("status", "priority", "assignee", "tags")})
        return self._save(ticket, fields, AuditEntry(ticket_id=ticket_id, at_ms=now, actor=actor,
                                                     action="commented" if set(changes) == {"comment"} else "updated",
                                                     changes=changes))

    def _save(self, ticket: Ticket, fields: dict[str, Any], audit: AuditEntry) -> Ticket:
        updated = ticket.model_copy(update={**fields, "updated_ms": audit.at_ms, "version": ticket.version + 1})
        try:
            self.store.save(updated, audit, expected_version=ticket.version)
        except VersionConflict as exc:
            raise Conflict("the ticket was changed meanwhile; read it again", code="version_conflict") from exc
        comment = audit.changes.get("comment")
        if isinstance(comment, dict):  # before the status change: "here is the fix", then "solved?"
            self._publish(TicketCommented(ticket_id=updated.ticket_id, comment_id=f"{audit.at_ms}#{updated.version}",
                                          conversation_id=updated.conversation_id, customer_id=updated.customer_id,
                                          channel=updated.channel, ts_ms=audit.at_ms,
                                          public=bool(comment.get("public")), text=str(comment.get("text", ""))))
        if "status" in fields:
            self._publish(_changed(updated, ticket.status, audit.at_ms))
        return updated

    # -- SLA sweep ----------------------------------------------------------------------------

    def check_sla(self) -> dict[str, int]:
        """Flag breaches (once each), alert supervisors and the assignee, send due reminders."""
        now = self._now()
        reminder_ms = self._desk().sla_reminder_minutes * 60_000
        counts = {"breaches": 0, "reminders": 0}
        for ticket in self.store.due(now):
            breached: list[SlaKind] = []
            if ticket.first_response_ms is None and ticket.first_response_due_ms and \
                    ticket.first_response_due_ms <= now and "first_response" not in ticket.breaches:
                breached.append("first_response")
            if ticket.resolution_due_ms and ticket.resolution_due_ms <= now and "resolution" not in ticket.breaches:
                breached.append("resolution")
            reminder_due = ticket.next_reminder_ms is not None and ticket.next_reminder_ms <= now
            if not breached and not reminder_due:
                continue
            fields: dict[str, Any] = {"next_reminder_ms": now + reminder_ms}
            if breached:
                fields["breaches"] = [*ticket.breaches, *breached]
                audit = AuditEntry(ticket_id=ticket.ticket_id, at_ms=now, actor="system:sla", action="sla_breached",
                                   changes={"breached": breached})
            else:
                fields["reminders_sent"] = ticket.reminders_sent + 1
                audit = AuditEntry(ticket_id=ticket.ticket_id, at_ms=now, actor="system:sla", action="reminder_sent",
                                   changes={"reminder": ticket.reminders_sent + 1})
            try:
                updated = self._save(ticket, fields, audit)
            except Conflict:
                continue  # changed meanwhile; the next sweep looks again
            for kind in breached:
                self._publish(SlaBreached(ticket_id=updated.ticket_id, conversation_id=updated.conversation_id,
                                          customer_id=updated.customer_id, channel=updated.channel, ts_ms=now,
                                          kind=kind))
            frame = {"type": "sla_breach" if breached else "sla_reminder", "ticket_id": ticket.ticket_id,
                     "breached": updated.breaches, "priority": ticket.priority, "subject": ticket.subject}
            self._notify(ticket.assignee, frame)
            counts["breaches" if breached else "reminders"] += 1
            logger.info("sla event", extra={"ticket_id": ticket.ticket_id, "sla_event": frame["type"]})
        return counts



def _changed(ticket: Ticket, from_status: str | None, at_ms: int) -> TicketChanged:
    return TicketChanged(ticket_id=ticket.ticket_id, conversation_id=ticket.conversation_id,
                         customer_id=ticket.customer_id, channel=ticket.channel, ts_ms=at_ms,
                         from_status=from_status, to_status=ticket.status, priority=ticket.priority)
