"""The agent protocol on the shared WebSocket API, and the customer's `requestHuman` / `rate` frames.

Agents connect with `?token=<agent JWT>&as=agent`. Each frame below is registered with the chat
handler; a handler checks who is behind the connection and delegates to the Workspace, which
checks what that principal may do. Errors reach the client as `error` frames (DomainError).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from chalicelib.chat import frames
from chalicelib.chat.frames import MAX_TEXT_CHARS, ClientMsgId, _Frame
from chalicelib.errors import Forbidden
from chalicelib.routing.models import Name, Tag
from chalicelib.store.connection_store import Connection

ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class SetStatus(_Frame):
    action: Literal["setStatus"]
    status: Literal["online", "away", "offline"]


class Accept(_Frame):
    action: Literal["accept"]
    conversation_id: ConversationId


class Decline(_Frame):
    action: Literal["decline"]
    conversation_id: ConversationId


class Work(_Frame):
    action: Literal["work"]


class Context(_Frame):
    action: Literal["context"]
    conversation_id: ConversationId


class Assist(_Frame):
    action: Literal["assist"]
    conversation_id: ConversationId


class Reply(_Frame):
    action: Literal["reply"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    text: Text | None = None
    canned_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _text_or_canned(self) -> Reply:
        if not (self.text and self.text.strip()) and not self.canned_id:
            raise ValueError("give text or canned_id")
        return self


class Note(_Frame):
    action: Literal["note"]
    conversation_id: ConversationId
    client_msg_id: ClientMsgId
    text: Text


class Transfer(_Frame):
    action: Literal["transfer"]
    conversation_id: ConversationId
    to_agent: str | None = Field(default=None, max_length=128)
    to_team: Name | None = None
    note: str | None = Field(default=None, max_length=2000)


class Resolve(_Frame):
    action: Literal["resolve"]
    conversation_id: ConversationId
    note: str | None = Field(default=None, max_length=2000)


class Reopen(_Frame):
    action: Literal["reopen"]
    conversation_id: ConversationId


class RequestHuman(_Frame):
    action: Literal["requestHuman"]
    reason: str | None = Field(default=None, max_length=500)
    language: Tag = "en"
    client_msg_id: ClientMsgId | None = None


class Rate(_Frame):
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


AGENT_FRAMES: dict[str, type[_Frame]] = {
    "setStatus": SetStatus, "accept": Accept, "decline": Decline, "work": Work, "context": Context, "reply": Reply,
    "note": Note, "transfer": Transfer, "resolve": Resolve, "reopen": Reopen, "assist": Assist,
}
CUSTOMER_FRAMES: dict[str, type[_Frame]] = {"requestHuman": RequestHuman, "rate": Rate}


def install(chat: Any, workspace: Callable[[], Any]) -> None:
    """Register the agents' and customers' frames with the chat handler (once per container)."""
    from chalicelib.agents.workspace import Principal

    def principal(connection: Connection) -> Principal:
        if connection.owner_type != "agent":
            raise Forbidden("this action is for agents", code="forbidden")
        return Principal(kind="agent", id=connection.owner_id, role=connection.role or "agent", name=connection.name)

    def reply_to(connection: Connection, endpoint: str, frame: dict[str, Any]) -> None:
        chat._reply(endpoint, connection.connection_id, frame)

    def agent(fn: Callable[[Any, Principal, Any], dict[str, Any] | None]) -> Callable[[Connection, Any, str], None]:
        def handle(connection: Connection, frame: Any, endpoint: str) -> None:
            answer = fn(workspace(), principal(connection), frame)
            if answer is not None:
                reply_to(connection, endpoint, answer)
        return handle

    def set_status(ws: Any, who: Principal, frame: SetStatus) -> dict[str, Any]:
        ws.check_agent(who)
        agent_profile = ws.routing.set_status(who.id, frame.status)
        return {"type": "status", "status": agent_profile.status, "load": agent_profile.load,
                "capacity": agent_profile.capacity}

    def accept(ws: Any, who: Principal, frame: Accept) -> dict[str, Any]:
        return {**ws.accept(who, frame.conversation_id), "type": "assigned"}

    def decline(ws: Any, who: Principal, frame: Decline) -> dict[str, Any]:
        ws.decline(who, frame.conversation_id)
        return {"type": "declined", "conversation_id": frame.conversation_id}

    def reply(ws: Any, who: Principal, frame: Reply) -> dict[str, Any]:
        result = ws.reply(who, frame.conversation_id, client_msg_id=frame.client_msg_id, text=frame.text,
                          canned_id=frame.canned_id)
        message = result.message
        return frames.ack(frame.client_msg_id, message.message_id, message.seq, message.ts, message.conversation_id,
                          duplicate=result.duplicate)

    def note(ws: Any, who: Principal, frame: Note) -> dict[str, Any]:
        result = ws.note(who, frame.conversation_id, client_msg_id=frame.client_msg_id, text=frame.text)
        message = result.message
        return {**frames.ack(frame.client_msg_id, message.message_id, message.seq, message.ts,
                             message.conversation_id, duplicate=result.duplicate), "visibility": "internal"}

    def transfer(ws: Any, who: Principal, frame: Transfer) -> dict[str, Any]:
        return {"type": "transferred", **ws.transfer(who, frame.conversation_id, to_agent=frame.to_agent,
                                                      to_team=frame.to_team, note=frame.note)}

    def resolve(ws: Any, who: Principal, frame: Resolve) -> dict[str, Any]:
        return {"type": "resolved", **ws.resolve(who, frame.conversation_id, frame.note)}

    def reopen(ws: Any, who: Principal, frame: Reopen) -> dict[str, Any]:
        return {"type": "reopened", **ws.reopen(who, frame.conversation_id)}

    def request_human(connection: Connection, frame: RequestHuman, endpoint: str) -> None:
        if connection.owner_type != "customer":
            raise Forbidden("agents escalate with transfer or the supervisor API", code="forbidden")
        request = workspace().request_human(connection.owner_id, connection.channel or "app", connection.vip,
                                            reason=frame.reason, language=frame.language,
                                            client_msg_id=frame.client_msg_id,
                                            conversation_hint=connection.conversation_id)
        if request.conversation_id != connection.conversation_id:
            chat._connections.attach(connection.connection_id, request.conversation_id)
        reply_to(connection, endpoint, {"type": "escalation", "status": "requested",
                                        "conversation_id": request.conversation_id})

    def rate(connection: Connection, frame: Rate, endpoint: str) -> None:
        if connection.owner_type != "customer":
            raise Forbidden("only customers rate conversations", code="forbidden")
        ws = workspace()
        rating = ws.csat.rate(connection.owner_id, frame.conversation_id, score=frame.score, comment=frame.comment,
                              nps=frame.nps)
        if frame.nps is not None or not ws.routing.config.nps_enabled:
            ws.csat.clear_pending(connection.owner_id)
        else:
            ws.csat._set_pending(connection.owner_id, rating["conversation_id"], rating.get("agent_id"), "nps")
        reply_to(connection, endpoint, {"type": "rated", **{k: v for k, v in rating.items() if k != "agent_id"}})

    handlers: dict[type, Callable[[Connection, Any, str], None]] = {
        SetStatus: agent(set_status), Accept: agent(accept), Decline: agent(decline),
        Work: agent(lambda ws, who, frame: {"type": "work", **ws.work(who)}),
        Context: agent(lambda ws, who, frame: ws.context(who, frame.conversation_id)),
        Assist: agent(lambda ws, who, frame: ws.assist(who, frame.conversation_id)),
        Reply: agent(reply), Note: agent(note), Transfer: agent(transfer), Resolve: agent(resolve),
        Reopen: agent(reopen), RequestHuman: request_human, Rate: rate,
    }
    for action, model in {**AGENT_FRAMES, **CUSTOMER_FRAMES}.items():
        frames.register_frame(action, model)
    for model, handler in handlers.items():
        chat.register(model, handler)

    def gate(claims: Any) -> None:
        from chalicelib.agents.workspace import Principal as P

        workspace().check_agent(P(kind="agent", id=claims.sub, role=claims.role))

    def went_away(connection: Connection) -> None:
        if connection.owner_type != "agent":
            return
        ws = workspace()
        if not ws.conversations.connections.for_owner("agent", connection.owner_id):
            agent_profile = ws.store.get_agent(connection.owner_id)
            if agent_profile is not None and agent_profile.status != "offline":
                ws.routing.set_status(connection.owner_id, "offline")

    chat.agent_gate = gate
    chat.on_disconnect(went_away)
