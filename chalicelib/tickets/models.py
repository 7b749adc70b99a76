"""Tickets, their SLA policies and audit entries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.routing.models import Name, Tag

TicketStatus = Literal["new", "open", "pending", "solved", "closed"]
TicketPriority = Literal["low", "normal", "high", "urgent"]
TicketSource = Literal["conversation", "api", "email", "channel", "offline_escalation"]

# Which status may follow which; `closed` is final (a follow-up is a new ticket).
TRANSITIONS: dict[str, set[str]] = {
    "new": {"open", "pending", "solved", "closed"},
    "open": {"pending", "solved", "closed"},
    "pending": {"open", "solved", "closed"},
    "solved": {"open", "closed"},
    "closed": set(),
}


class TicketInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20000)
    customer_id: str | None = Field(default=None, max_length=128)
    conversation_id: str | None = Field(default=None, max_length=64)
    priority: TicketPriority = "normal"
    assignee: str | None = Field(default=None, max_length=128)
    team_id: Name | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    channel: str | None = Field(default=None, max_length=40)


class TicketPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    assignee: str | None = Field(default=None, max_length=128)
    unassign: bool = False
    tags: list[Tag] | None = Field(default=None, max_length=20)
    comment: str | None = Field(default=None, max_length=20000)
    public: bool = Field(default=False, description="a public comment counts as the first response")


class SlaPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_response_minutes: int = Field(ge=1, le=60 * 24 * 30)
    resolution_minutes: int = Field(ge=1, le=60 * 24 * 90)
    business_hours: bool = Field(default=True, description="count only the desk's business hours")


DEFAULT_SLA: dict[str, SlaPolicy] = {
    "urgent": SlaPolicy(first_response_minutes=15, resolution_minutes=4 * 60),
    "high": SlaPolicy(first_response_minutes=60, resolution_minutes=8 * 60),
    "normal": SlaPolicy(first_response_minutes=4 * 60, resolution_minutes=24 * 60),
    "low": SlaPolicy(first_response_minutes=8 * 60, resolution_minutes=72 * 60),
}


class Ticket(TicketInput):
    model_config = ConfigDict(extra="ignore")

    ticket_id: str
    status: TicketStatus = "new"
    source: TicketSource = "api"
    created_ms: int
    updated_ms: int
    version: int = 1
    first_response_due_ms: int | None = None
    resolution_due_ms: int | None = None
    first_response_ms: int | None = None
    solved_ms: int | None = None
    breaches: list[str] = Field(default_factory=list)
    next_reminder_ms: int | None = None
    reminders_sent: int = 0


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ticket_id: str
    at_ms: int
    actor: str
    action: str
    changes: dict[str, Any] = Field(default_factory=dict)
