"""REST for agents, supervisors and admins (the routes are declared in app.py).

Every route authenticates `Authorization: Bearer <agent JWT>` (HS256, AGENT_TOKEN_SECRET), checks
the role, and lets the Workspace check the conversation; errors become JSON 4xx
`{"code","message","details"?}` through `chalicelib.http.rest_errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.agents.workspace import Principal, Workspace
from chalicelib.auth.roles import ADMINS, ANY_ROLE, SUPERVISORS
from chalicelib.errors import Forbidden
from chalicelib.http import json_response, parse_body, rest_errors
from chalicelib.outreach.templates import TemplateChoice
from chalicelib.routing.models import AgentInput, CannedInput, DeskConfig, Name, Tag, TeamInput
from chalicelib.tickets.models import DEFAULT_SLA, SlaPolicy, TicketInput, TicketPatch

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chalice.app import Request, Response

    from chalicelib.auth.authenticator import AgentAuthenticator
    from chalicelib.core.models import AppendResult
    from chalicelib.routing.service import RoutingService
    from chalicelib.routing.store import RoutingStore
    from chalicelib.tickets.models import Ticket
    from chalicelib.tickets.service import TicketService


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["online", "away", "offline"]


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_msg_id: str = Field(min_length=1, max_length=128)
    text: str | None = Field(default=None, max_length=4000)
    canned_id: str | None = Field(default=None, max_length=64)
    template: TemplateChoice | None = None  # issue 16: {template_id, params}


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_msg_id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=4000)


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_agent: str | None = Field(default=None, max_length=128)
    to_team: Name | None = None
    note: str | None = Field(default=None, max_length=2000)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


class EscalateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="supervisor", max_length=500)
    skills: list[Tag] = Field(default_factory=list, max_length=10)
    language: Tag | None = None
    team_id: Name | None = None


class AgentsRest:
    """The desk's REST routes (declared in app.py), each one authenticated and role-checked."""

    def __init__(self, workspace: Workspace, store: RoutingStore, routing: RoutingService, tickets: TicketService,
                 auth: AgentAuthenticator) -> None:
        self._ws, self._store, self._routing, self._tickets, self._auth = workspace, store, routing, tickets, auth

    def _who(self, request: Request, roles: tuple[str, ...] = ANY_ROLE) -> Principal:
        claims = self._auth.claims(request, roles)
        return Principal(kind="agent", id=claims.sub, role=claims.role, name=claims.name)

    # -- admin: agents, teams, desk settings, canned responses, SLA policies ----------------------------

    @rest_errors
    def put_agent(self, request: Request, agent_id: str) -> Response:
        self._who(request, ADMINS)
        data = parse_body(request, AgentInput)
        return json_response(self._store.put_agent(agent_id, data).model_dump())

    @rest_errors
    def put_team(self, request: Request, team_id: str) -> Response:
        self._who(request, ADMINS)
        return json_response(self._store.put_team(team_id, parse_body(request, TeamInput)).model_dump(mode="json"))

    @rest_errors
    def list_teams(self, request: Request) -> Response:
        self._who(request, SUPERVISORS)
        return json_response([t.model_dump(mode="json") for t in self._store.list_teams()])

    @rest_errors
    def desk_config(self, request: Request) -> Response:
        self._who(request, ADMINS)
        store = self._store
        if request.method == "PUT":
            config = store.put_config(parse_body(request, DeskConfig))
            self._routing.forget_config()
            return json_response(config.model_dump(mode="json"))
        return json_response(store.get_config().model_dump(mode="json"))

    @rest_errors
    def put_canned(self, request: Request, canned_id: str) -> Response:
        self._who(request, ADMINS)
        return json_response(self._store.put_canned(canned_id, parse_body(request, CannedInput)))

    @rest_errors
    def put_sla_policy(self, request: Request, priority: str) -> Response:
        self._who(request, ADMINS)
        if priority not in ("low", "normal", "high", "urgent"):
            from chalicelib.errors import InvalidInput

            raise InvalidInput("priority must be low, normal, high or urgent")
        policy = parse_body(request, SlaPolicy)
        self._tickets.store.put_policy(priority, policy)
        return json_response({"priority": priority, **policy.model_dump()})

    @rest_errors
    def sla_policies(self, request: Request) -> Response:
        """Every priority's SLA policy as tickets get it: the stored one, else the default (``stored: false``)."""
        self._who(request, SUPERVISORS)
        out = []
        for priority, default in DEFAULT_SLA.items():
            stored = self._tickets.store.get_policy(priority)
            out.append({"priority": priority, **(stored or default).model_dump(), "stored": stored is not None})
        return json_response(out)

    # -- supervisors --------------------------------------------------------------------------------------

    @rest_errors
    def supervisor_queue(self, request: Request) -> Response:
        return json_response(self._ws.queue_view(self._who(request, SUPERVISORS)))

    @rest_errors
    def supervisor_agents(self, request: Request) -> Response:
        return json_response(self._ws.load_view(self._who(request, SUPERVISORS)))

    # -- agents ---------------------------------------------------------------------------------------------

    @rest_errors
    def agent_work(self, request: Request) -> Response:
        return json_response(self._ws.work(self._who(request)))

    @rest_errors
    def agent_status(self, request: Request) -> Response:
        who = self._who(request)
        workspace = self._ws
        workspace.check_agent(who)
        return json_response(workspace.routing.set_status(who.id, parse_body(request, StatusBody).status).model_dump())

    @rest_errors
    def agent_canned(self, request: Request) -> Response:
        self._who(request)
        return json_response(self._store.list_canned())

    @rest_errors
    def conversation_context(self, request: Request, conversation_id: str) -> Response:
        return json_response(self._ws.context(self._who(request), conversation_id))

    @rest_errors
    def conversation_action(self, request: Request, conversation_id: str, verb: str) -> Response:
        who = self._who(request)
        ws = self._ws
        if verb == "accept":
            return json_response(ws.accept(who, conversation_id))
        if verb == "decline":
            ws.decline(who, conversation_id)
            return json_response({"conversation_id": conversation_id, "declined": True})
        if verb == "messages":
            body = parse_body(request, ReplyBody)
            result = ws.reply(who, conversation_id, client_msg_id=body.client_msg_id, text=body.text,
                              canned_id=body.canned_id, template=body.template)
            return _posted(result)
        if verb == "notes":
            note = parse_body(request, NoteBody)
            result = ws.note(who, conversation_id, client_msg_id=note.client_msg_id, text=note.text)
            return _posted(result)
        if verb == "transfer":
            move = parse_body(request, TransferBody)
            return json_response(ws.transfer(who, conversation_id, to_agent=move.to_agent, to_team=move.to_team,
                                             note=move.note))
        if verb == "resolve":
            return json_response(ws.resolve(who, conversation_id, parse_body(request, ResolveBody).note))
        if verb == "reopen":
            return json_response(ws.reopen(who, conversation_id))
        if verb == "escalate":
            escalation = parse_body(request, EscalateBody)
            return json_response(ws.escalate(who, conversation_id, reason=escalation.reason, skills=escalation.skills,
                                             language=escalation.language, team_id=escalation.team_id), 202)
        if verb == "ticket":
            ticket = ws.ticket_from_conversation(who, conversation_id, parse_body(request, TicketInput))
            return json_response(ticket.model_dump(), 201)
        from chalicelib.errors import NotFound

        raise NotFound(f"unknown action {verb}")

    # -- tickets --------------------------------------------------------------------------------------------

    @staticmethod
    def _ticket_visible(who: Principal, ticket: Ticket) -> None:
        if not who.supervises and ticket.assignee not in (who.id, None):
            raise Forbidden("this ticket is assigned to someone else", code="forbidden")

    @rest_errors
    def tickets(self, request: Request) -> Response:
        who = self._who(request)
        service = self._tickets
        if request.method == "POST":
            created = service.create(parse_body(request, TicketInput), actor=f"agent:{who.id}")
            return json_response(created.model_dump(), 201)
        query: Mapping[str, str] = request.query_params or {}
        status = query.get("status", "new")
        if status not in ("new", "open", "pending", "solved", "closed"):
            from chalicelib.errors import InvalidInput

            raise InvalidInput("status must be new, open, pending, solved or closed")
        found = service.store.by_status(status)
        return json_response([t.model_dump() for t in found if who.supervises or t.assignee in (who.id, None)])

    @rest_errors
    def ticket(self, request: Request, ticket_id: str) -> Response:
        who = self._who(request)
        service = self._tickets
        current = service.get(ticket_id)
        self._ticket_visible(who, current)
        if request.method == "PATCH":
            patch = parse_body(request, TicketPatch)
            if not who.supervises and patch.assignee not in (None, who.id):
                raise Forbidden("agents assign tickets to themselves only", code="forbidden")
            return json_response(service.update(ticket_id, patch, actor=f"agent:{who.id}").model_dump())
        audit = [a.model_dump() for a in service.store.audit(ticket_id)]
        return json_response({**current.model_dump(), "audit": audit})


def _posted(result: AppendResult) -> Response:
    """201 with the new message; 200 with the original when the same client_msg_id came before."""
    return json_response({"message": result.message.model_dump(exclude_none=True), "duplicate": result.duplicate},
                         200 if result.duplicate else 201)
