"""The agent protocol on the shared WebSocket API, and the customer's `requestHuman` / `rate` frames.

Agents connect with `?token=<agent JWT>&as=agent`. The frames below reach the chat handler as a
`FrameExtension` (given to its constructor); a handler checks who is behind the connection and
delegates to the Workspace, which
checks what that principal may do. Errors reach the client as `error` frames (DomainError).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from chalicelib.agents.workspace import Principal, Workspace
from chalicelib.chat.extension import FrameExtension, FrameHandler
from chalicelib.errors import Forbidden
from chalicelib.outreach.templates import TemplateChoice
from chalicelib.realtime import frames
from chalicelib.realtime.frames import MAX_TEXT_CHARS, ClientMsgId, Frame
from chalicelib.routing.models import Name, Tag

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.auth.tokens import AgentClaims
    from chalicelib.store.connection_store import Connection

ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class SetStatus(Frame):
    action: Literal["setStatus"]
    status: Literal["online", "away", "offline"]


class Accept(Frame):
    action: Literal["accept"]
    conversation_id: ConversationId


class Decline(Frame):
    action: Literal["decline"]
    conversation_id: ConversationId


class Work(Frame):
    action: Literal["work"]


class Context(Frame):
    action: Literal["context"]
    conversation_id: ConversationId


class Assist(Frame):
    action: Literal["assist"]
    conversation_id: ConversationId


class Reply(Frame):
    action: Literal["reply"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    text: Text | None = None
    canned_id: str | None = Field(default=None, max_length=64)
    template: TemplateChoice | None = None  # issue 16: {template_id, params}

    @model_validator(mode="after")
    def _text_or_canned(self) -> Reply:
        if not (self.text and self.text.strip()) and not self.canned_id and self.template is None:
            raise ValueError("give text, canned_id or template")
        return self


class Note(Frame):
    action: Literal["note"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    text: Text


class Transfer(Frame):
    action: Literal["transfer"]
    conversation_id: ConversationId
    to_agent: str | None = Field(default=None, max_length=128)
    to_team: Name | None = None
    note: str | None = Field(default=None, max_length=2000)


class Resolve(Frame):
    action: Literal["resolve"]
    conversation_id: ConversationId
    note: str | None = Field(default=None, max_length=2000)


class Reopen(Frame):
    action: Literal["reopen"]
    conversation_id: ConversationId


class RequestHuman(Frame):
    action: Literal["requestHuman"]
    reason: str | None = Field(default=None, max_length=500)
    language: Tag = "en"
    client_msg_id: ClientMsgId | None = None


class Rate(Frame):
    action: Literal["rate"]
    conversation_id: ConversationId | None = None
    score: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)
    nps: int | None = Field(default=None, ge=0, le=10)

    @model_validator(mode="after")
    def _something(self) -> Rate:
        if self.score is None and self.nps is None:
            raise ValueError("give score (1-5) and/or nps (0-10)")
        return self


AGENT_FRAMES: dict[str, type[Frame]] = {
    "setStatus": SetStatus, "accept": Accept, "decline": Decline, "work": Work, "context": Context, "reply": Reply,
    "note": Note, "transfer": Transfer, "resolve": Resolve, "reopen": Reopen, "assist": Assist,
}
CUSTOMER_FRAMES: dict[str, type[Frame]] = {"requestHuman": RequestHuman, "rate": Rate}


def _principal(connection: Connection) -> Principal:
    if connection.owner_type != "agent":
        raise Forbidden("this action is for agents", code="forbidden")
    return Principal(kind="agent", id=connection.owner_id, role=connection.role or "agent", name=connection.name)


def agent_frame_handlers(ws: Workspace) -> FrameExtension:
    """The agents' frames and the customers' `requestHuman` / `rate`, answered through `ws`."""

    def agent(fn: Callable[[Principal, Any], dict[str, Any] | None]) -> FrameHandler:
        def handle(connection: Connection, frame: Frame) -> dict[str, Any] | None:
            return fn(_principal(connection), frame)
        return handle

    def set_status(who: Principal, frame: SetStatus) -> dict[str, Any]:
        ws.check_agent(who)
        profile = ws.routing.set_status(who.id, frame.status)
        return frames.typed("status", status=profile.status, load=profile.load, capacity=profile.capacity)

    def decline(who: Principal, frame: Decline) -> dict[str, Any]:
        ws.decline(who, frame.conversation_id)
        return frames.typed("declined", conversation_id=frame.conversation_id)

    def reply(who: Principal, frame: Reply) -> dict[str, Any]:
        result = ws.reply(who, frame.conversation_id, client_msg_id=frame.client_msg_id, text=frame.text,
                          canned_id=frame.canned_id, template=frame.template)
        return frames.ack_for(frame.client_msg_id, result)

    def note(who: Principal, frame: Note) -> dict[str, Any]:
        result = ws.note(who, frame.conversation_id, client_msg_id=frame.client_msg_id, text=frame.text)
        return {**frames.ack_for(frame.client_msg_id, result), "visibility": "internal"}

    def transfer(who: Principal, frame: Transfer) -> dict[str, Any]:
        return frames.typed("transferred", **ws.transfer(who, frame.conversation_id, to_agent=frame.to_agent,
                                                         to_team=frame.to_team, note=frame.note))

    def request_human(connection: Connection, frame: RequestHuman) -> dict[str, Any]:
        if connection.owner_type != "customer":
            raise Forbidden("agents escalate with transfer or the supervisor API", code="forbidden")
        request = ws.request_human(connection.owner_id, connection.channel or "app", connection.vip,
                                   reason=frame.reason, language=frame.language, client_msg_id=frame.client_msg_id,
                                   conversation_hint=connection.conversation_id)
        if request.conversation_id != connection.conversation_id:
            ws.conversations.attach(connection.connection_id, request.conversation_id)
        return frames.typed("escalation", status="requested", conversation_id=request.conversation_id)

    def rate(connection: Connection, frame: Rate) -> dict[str, Any]:
        if connection.owner_type != "customer":
            raise Forbidden("only customers rate conversations", code="forbidden")
        rating = ws.csat.rate(connection.owner_id, frame.conversation_id, score=frame.score, comment=frame.comment,
                              nps=frame.nps)
        if frame.nps is not None or not ws.routing.config.nps_enabled:
            ws.csat.clear_pending(connection.owner_id)
        else:
            ws.csat.set_pending(connection.owner_id, rating["conversation_id"], rating.get("agent_id"), "nps")
        return frames.typed("rated", **{k: v for k, v in rating.items() if k != "agent_id"})

    def gate(claims: AgentClaims) -> None:
        ws.check_agent(Principal(kind="agent", id=claims.sub, role=claims.role))

    def went_offline(agent_id: str) -> None:
        profile = ws.store.get_agent(agent_id)
        if profile is not None and profile.status != "offline":
            ws.routing.set_status(agent_id, "offline")

    handlers: dict[type[Frame], FrameHandler] = {
        SetStatus: agent(set_status),
        Accept: agent(lambda who, frame: frames.typed("assigned", **ws.accept(who, frame.conversation_id))),
        Decline: agent(decline),
        Work: agent(lambda who, frame: frames.typed("work", **ws.work(who))),
        Context: agent(lambda who, frame: ws.context(who, frame.conversation_id)),
        Assist: agent(lambda who, frame: ws.assist(who, frame.conversation_id)),
        Reply: agent(reply), Note: agent(note), Transfer: agent(transfer),
        Resolve: agent(lambda who, frame: frames.typed("resolved", **ws.resolve(who, frame.conversation_id,
                                                                                frame.note))),
        Reopen: agent(lambda who, frame: frames.typed("reopened", **ws.reopen(who, frame.conversation_id))),
        RequestHuman: request_human, Rate: rate,
    }
    return FrameExtension(models={**AGENT_FRAMES, **CUSTOMER_FRAMES}, handlers=handlers, agent_gate=gate,
                          agent_offline=went_offline)
