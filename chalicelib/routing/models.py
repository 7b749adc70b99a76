"""The routing domain's shapes: the escalation message on SQS, agents, teams, business hours, desk settings.

`EscalationRequest` is the contract for everything that puts an escalation on the queue (the bot,
the customer's `requestHuman` frame, agents and supervisors): import it, fill it, and send it with
`chalicelib.routing.publisher.EscalationPublisher`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9_.:-]+$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)]
AgentStatus = Literal["online", "away", "offline"]
Role = Literal["agent", "supervisor", "admin"]
RoutingStatus = Literal["queued", "offered", "assigned", "offline", "resolved"]
EscalationSource = Literal["customer", "bot", "agent", "supervisor", "system"]

ANGRY_SENTIMENT = -0.5


class EscalationRequest(BaseModel):
    """One message on the escalation queue (JSON body). Redelivery with the same key is harmless."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    conversation_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="customer_request", max_length=500)
    language: Tag = "en"
    skills: list[Tag] = Field(default_factory=list, max_length=10)
    vip: bool = False
    sentiment: float | None = Field(default=None, ge=-1.0, le=1.0,
                                    description="-1 (angry) .. 1 (happy); <= -0.5 raises the priority")
    requested_at: datetime
    idempotency_key: str = Field(min_length=1, max_length=200)
    source: EscalationSource = "bot"
    team_id: Name | None = None
    note: str | None = Field(default=None, max_length=2000)

    @property
    def priority(self) -> int:
        """0 (normal) .. 3: VIP adds 2, an angry customer adds 1."""
        angry = self.sentiment is not None and self.sentiment <= ANGRY_SENTIMENT
        return (2 if self.vip else 0) + (1 if angry else 0)

    @property
    def requested_ms(self) -> int:
        at = self.requested_at if self.requested_at.tzinfo else self.requested_at.replace(tzinfo=UTC)
        return int(at.timestamp() * 1000)


# -- business hours ------------------------------------------------------------------------------

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


class Window(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class BusinessHours(BaseModel):
    """Weekly opening windows in a time zone; a day missing from `days` is closed."""

    model_config = ConfigDict(frozen=True)

    timezone: str = "UTC"
    days: dict[Day, list[Window]] = Field(default_factory=dict)
    holidays: list[str] = Field(default_factory=list, description="YYYY-MM-DD dates closed all day")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def _windows_on(self, day: datetime) -> list[tuple[datetime, datetime]]:
        if day.strftime("%Y-%m-%d") in self.holidays:
            return []
        result = []
        for window in self.days.get(DAYS[day.weekday()], []):
            start = _at(day, window.start)
            result.append((start, _at(day, window.end)))
        return sorted(result)

    def is_open(self, ms: int) -> bool:
        local = datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(self.timezone))
        return any(start <= local < end for start, end in self._windows_on(local))

    def add_business_seconds(self, start_ms: int, seconds: int) -> int:
        """The instant `seconds` of open time after `start_ms` (SLA deadlines); 60 days at most."""
        zone = ZoneInfo(self.timezone)
        cursor = datetime.fromtimestamp(start_ms / 1000, tz=zone)
        remaining = timedelta(seconds=seconds)
        for _ in range(60):
            for start, end in self._windows_on(cursor):
                if end <= cursor:
                    continue
                begin = max(start, cursor)
                if begin + remaining <= end:
                    return int((begin + remaining).timestamp() * 1000)
                remaining -= end - begin
            cursor = _at(cursor + timedelta(days=1), "00:00")
        return start_ms + seconds * 1000  # no open time configured: fall back to wall-clock time


def _at(day: datetime, hhmm: str) -> datetime:
    if hhmm == "24:00":
        return day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    hour, minute = (int(p) for p in hhmm.split(":"))
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


# -- agents, teams, desk settings -------------------------------------------------------------------


class AgentInput(BaseModel):
    """What an admin sets on an agent (PUT /admin/agents/{id})."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    skills: list[Tag] = Field(default_factory=list, max_length=30)
    languages: list[Tag] = Field(default_factory=lambda: ["en"], min_length=1, max_length=10)
    team_id: Name | None = None
    capacity: int = Field(default=3, ge=1, le=20, description="max concurrent conversations")
    role: Role = "agent"


class Agent(AgentInput):
    model_config = ConfigDict(extra="ignore")

    agent_id: str
    status: AgentStatus = "offline"
    load: int = 0
    last_assigned_ms: int = 0
    status_ms: int = 0

    def can_take(self, skills: list[str], language: str, team_id: str | None) -> bool:
        return (self.status == "online" and self.load < self.capacity and set(skills) <= set(self.skills)
                and language in self.languages and (team_id is None or team_id == self.team_id))


class TeamInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    business_hours: BusinessHours | None = None


class Team(TeamInput):
    model_config = ConfigDict(extra="ignore")

    team_id: str


class DeskConfig(BaseModel):
    """Desk-wide settings (PUT /admin/config); the defaults apply until an admin sets them."""

    model_config = ConfigDict(extra="forbid")

    business_hours: BusinessHours | None = Field(default=None, description="None: always open")
    offer_timeout_seconds: int = Field(default=60, ge=1, le=3600)
    average_handle_seconds: int = Field(default=300, ge=10, le=86400)
    idle_close_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    csat_enabled: bool = True
    nps_enabled: bool = True
    # issue 16: the share of conversations the bot closed alone (never handed over) that get the CSAT question
    bot_survey_share: float = Field(default=0.0, ge=0.0, le=1.0)
    sla_reminder_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    offline_message: str | None = Field(default=None, max_length=1000,
                                        description="None: the catalog's routing.offline text in the customer's "
                                                    "language; a text here is sent as it is, whatever the language")


class CannedInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=4000, description="placeholders: {customer_name}, {agent_name}")


class QueueEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sk: str
    conversation_id: str
    customer_id: str
    priority: int
    queued_ms: int
    skills: list[str] = Field(default_factory=list)
    language: str = "en"
    team_id: str | None = None
    declined_by: list[str] = Field(default_factory=list)
    told_position: int | None = None


class RoutingState(BaseModel):
    """The routing attributes of a conversation (kept on its META item)."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str
    customer_id: str
    status: Literal["open", "closed"]
    channel: str = "app"
    created_ms: int = 0
    routing_status: RoutingStatus | None = None
    escalation_key: str | None = None
    assigned_agent: str | None = None
    offered_agent: str | None = None
    offer_expires_ms: int | None = None
    priority: int = 0
    queued_ms: int | None = None
    skills: list[str] = Field(default_factory=list)
    language: str = "en"
    team_id: str | None = None
    reason: str | None = None
    declined_by: list[str] = Field(default_factory=list)
    resolved_by: str | None = None
    gsi2pk: str | None = None  # the idle index entry (keys.idle_gsi2) while open
    gsi2sk: str | None = None
    first_agent_reply_ms: int | None = None
    assigned_ms: int | None = None  # set by accept/assign_directly (analytics: handle time)


class WorkItem(BaseModel):
    """One offer or assignment of an agent (pk=AGENT#id, sk=WORK#conversation)."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str
    customer_id: str
    state: Literal["offered", "assigned"]
    since_ms: int
    expires_ms: int | None = None
    priority: int = 0
    reason: str | None = None
