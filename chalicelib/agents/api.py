"""REST for agents, supervisors and admins (a Chalice blueprint registered in app.py).

Every route authenticates `Authorization: Bearer <agent JWT>` (HS256, AGENT_TOKEN_SECRET), checks
the role, and lets the Workspace check the conversation; errors become JSON 4xx
`{"code","message","details"?}` through `chalicelib.http.rest_errors`.
"""

from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.agents.workspace import Principal
from chalicelib.errors import Forbidden
from chalicelib.http import agent_claims, json_response, parse_body, rest_errors
from chalicelib.routing.models import AgentInput, CannedInput, DeskConfig, Name, Tag, TeamInput
from chalicelib.tickets.models import SlaPolicy, TicketInput, TicketPatch

api = Blueprint(__name__)

ANY_ROLE = ("agent", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
ADMINS = ("admin",)


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["online", "away", "offline"]


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_msg_id: str = Field(min_length=1, max_length=128)
    text: str | None = Field(default=None, max_length=4000)
    canned_id: str | None = Field(default=None, max_length=64)


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


def _who(roles: tuple[str, ...] = ANY_ROLE) -> Principal:
    claims = agent_claims(api.current_request, roles)
    principal = Principal(kind="agent", id=claims.sub, role=claims.role, name=claims.name)
    return principal


def _body(model: type[BaseModel]) -> Any:
    return parse_body(api.current_request, model)


# -- admin: agents, teams, desk settings, canned responses, SLA policies ----------------------------


@api.route("/admin/agents/{agent_id}", methods=["PUT"])
@rest_errors
def put_agent(agent_id: str) -> Any:
    _who(ADMINS)
    data = _body(AgentInput)
    return json_response(wiring.routing_store().put_agent(agent_id, data).model_dump())


@api.route("/admin/teams/{team_id}", methods=["PUT"])
@rest_errors
def put_team(team_id: str) -> Any:
    _who(ADMINS)
    return json_response(wiring.routing_store().put_team(team_id, _body(TeamInput)).model_dump(mode="json"))


@api.route("/admin/teams", methods=["GET"])
@rest_errors
def list_teams() -> Any:
    _who(SUPERVISORS)
    return json_response([t.model_dump(mode="json") for t in wiring.routing_store().list_teams()])


@api.route("/admin/config", methods=["GET", "PUT"])
@rest_errors
def desk_config() -> Any:
    _who(ADMINS)
    store = wiring.routing_store()
    if api.current_request.method == "PUT":
        config = store.put_config(_body(DeskConfig))
        wiring.routing().forget_config()
        return json_response(config.model_dump(mode="json"))
    return json_response(store.get_config().model_dump(mode="json"))


@api.route("/admin/canned/{canned_id}", methods=["PUT"])
@rest_errors
def put_canned(canned_id: str) -> Any:
    _who(ADMINS)
    return json_response(wiring.routing_store().put_canned(canned_id, _body(CannedInput)))


@api.route("/admin/sla-policies/{priority}", methods=["PUT"])
@rest_errors
def put_sla_policy(priority: str) -> Any:
    _who(ADMINS)
    if priority not in ("low", "normal", "high", "urgent"):
        from chalicelib.errors import InvalidInput

        raise InvalidInput("priority must be low, normal, high or urgent")
    policy = _body(SlaPolicy)
    wiring.tickets().store.put_policy(priority, policy)
    return json_response({"priority": priority, **policy.model_dump()})


# -- supervisors --------------------------------------------------------------------------------------


@api.route("/supervisor/queue", methods=["GET"])
@rest_errors
def supervisor_queue() -> Any:
    return json_response(wiring.workspace().queue_view(_who(SUPERVISORS)))


@api.route("/supervisor/agents", methods=["GET"])
@rest_errors
def supervisor_agents() -> Any:
    return json_response(wiring.workspace().load_view(_who(SUPERVISORS)))


# -- agents ---------------------------------------------------------------------------------------------


@api.route("/agent/work", methods=["GET"])
@rest_errors
def agent_work() -> Any:
    return json_response(wiring.workspace().work(_who()))


@api.route("/agent/status", methods=["PUT"])
@rest_errors
def agent_status() -> Any:
    who = _who()
    workspace = wiring.workspace()
    workspace.check_agent(who)
    return json_response(workspace.routing.set_status(who.id, _body(StatusBody).status).model_dump())


@api.route("/agent/canned", methods=["GET"])
@rest_errors
def agent_canned() -> Any:
    _who()
    return json_response(wiring.routing_store().list_canned())


@api.route("/agent/conversations/{conversation_id}", methods=["GET"])
@rest_errors
def conversation_context(conversation_id: str) -> Any:
    return json_response(wiring.workspace().context(_who(), conversation_id))


@api.route("/agent/conversations/{conversation_id}/{verb}", methods=["POST"])
@rest_errors
def conversation_action(conversation_id: str, verb: str) -> Any:
    who = _who()
    ws = wiring.workspace()
    if verb == "accept":
        return json_response(ws.accept(who, conversation_id))
    if verb == "decline":
        ws.decline(who, conversation_id)
        return json_response({"conversation_id": conversation_id, "declined": True})
    if verb == "messages":
        body = _body(ReplyBody)
        result = ws.reply(who, conversation_id, client_msg_id=body.client_msg_id, text=body.text,
                          canned_id=body.canned_id)
        return json_response({"message": result.message.model_dump(exclude_none=True), "duplicate": result.duplicate},
                             200 if result.duplicate else 201)
    if verb == "notes":
        body = _body(NoteBody)
        result = ws.note(who, conversation_id, client_msg_id=body.client_msg_id, text=body.text)
        return json_response({"message": result.message.model_dump(exclude_none=True), "duplicate": result.duplicate},
                             200 if result.duplicate else 201)
    if verb == "transfer":
        body = _body(TransferBody)
        return json_response(ws.transfer(who, conversation_id, to_agent=body.to_agent, to_team=body.to_team,
                                         note=body.note))
    if verb == "resolve":
        return json_response(ws.resolve(who, conversation_id, _body(ResolveBody).note))
    if verb == "reopen":
        return json_response(ws.reopen(who, conversation_id))
    if verb == "escalate":
        body = _body(EscalateBody)
        return json_response(ws.escalate(who, conversation_id, reason=body.reason, skills=body.skills,
                                         language=body.language, team_id=body.team_id), 202)
    if verb == "ticket":
        return json_response(ws.ticket_from_conversation(who, conversation_id, _body(TicketInput)).model_dump(), 201)
    from chalicelib.errors import NotFound

    raise NotFound(f"unknown action {verb}")


# -- tickets --------------------------------------------------------------------------------------------


def _ticket_visible(who: Principal, ticket: Any) -> None:
    if not who.supervises and ticket.assignee not in (who.id, None):
        raise Forbidden("this ticket is assigned to someone else", code="forbidden")


@api.route("/tickets", methods=["POST", "GET"])
@rest_errors
def tickets() -> Any:
    who = _who()
    service = wiring.tickets()
    request = api.current_request
    if request.method == "POST":
        return json_response(service.create(_body(TicketInput), actor=f"agent:{who.id}").model_dump(), 201)
    status = (request.query_params or {}).get("status", "new")
    if status not in ("new", "open", "pending", "solved", "closed"):
        from chalicelib.errors import InvalidInput

        raise InvalidInput("status must be new, open, pending, solved or closed")
    found = service.store.by_status(status)
    return json_response([t.model_dump() for t in found if who.supervises or t.assignee in (who.id, None)])


@api.route("/tickets/{ticket_id}", methods=["GET", "PATCH"])
@rest_errors
def ticket(ticket_id: str) -> Any:
    who = _who()
    service = wiring.tickets()
    current = service.get(ticket_id)
    _ticket_visible(who, current)
    if api.current_request.method == "PATCH":
        patch = _body(TicketPatch)
        if not who.supervises and patch.assignee not in (None, who.id):
            raise Forbidden("agents assign tickets to themselves only", code="forbidden")
        return json_response(service.update(ticket_id, patch, actor=f"agent:{who.id}").model_dump())
    return json_response({**current.model_dump(), "audit": [a.model_dump() for a in service.store.audit(ticket_id)]})
