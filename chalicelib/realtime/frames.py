"""The WebSocket contract: client frames (routed on `action`) and server frames (tagged `type`).

Every server frame is built here, so the protocol a client sees is in one module.

Parsing never raises anything but `FrameError`, whose `code` is what the client receives in an
`error` frame: `invalid_json`, `unknown_action`, `missing_field`, `empty_field`, `text_too_long`,
`invalid_frame`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from chalicelib.safeinput import UnsafeJson, has_surrogate, loads_json, scrub, scrub_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chalicelib.core.models import AppendResult

MAX_TEXT_CHARS = 4000
# Free text in which a lone surrogate (half an emoji) becomes U+FFFD; anywhere else it refuses the frame.
FREE_TEXT_FIELDS = frozenset({"text", "note", "reason"})

ClientMsgId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class FrameError(Exception):
    def __init__(self, code: str, message: str, client_msg_id: str | None = None,
                 details: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_msg_id = client_msg_id
        self.details = details


class Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    action: str  # each frame narrows it to its own Literal


class SendMessage(Frame):
    action: Literal["sendMessage"]
    client_msg_id: ClientMsgId
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]

    @model_validator(mode="after")
    def _not_blank(self) -> SendMessage:
        if not self.text.strip():
            raise ValueError("text must not be blank")
        return self


class History(Frame):
    action: Literal["history"]
    after_seq: int | None = Field(default=None, ge=0)
    before_seq: int | None = Field(default=None, ge=1)
    limit: int = Field(default=50, ge=1, le=100)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_direction(self) -> History:
        if self.after_seq is not None and self.before_seq is not None:
            raise ValueError("give after_seq or before_seq, not both")
        return self


class Ping(Frame):
    action: Literal["ping"]


# -- issue 16: customers' own tickets and marketing consent (handled by the tickets and customers
# domains, which register them with the chat handler through a FrameExtension)


class ListTickets(Frame):
    """A customer asks for their tickets and their status (public comments only)."""

    action: Literal["tickets"]


class SetConsent(Frame):
    """A customer opts in to (or out of) marketing messages on a channel (`all`: every channel)."""

    action: Literal["consent"]
    granted: bool
    channel: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")] = "all"


CLIENT_FRAMES: dict[str, type[Frame]] = {"sendMessage": SendMessage, "history": History, "ping": Ping}


def parse_frame(body: str | bytes | None, models: Mapping[str, type[Frame]] = CLIENT_FRAMES) -> Frame:
    """The frame `body` holds, validated by the model its `action` names in `models`."""
    try:
        data = loads_json(body or "")
    except UnsafeJson as exc:  # also too deep (RecursionError) or too long a number: an error frame, not silence
        reason = str(exc).removeprefix("invalid JSON: ")
        raise FrameError("invalid_json", f"frame is not valid JSON ({reason})"[:200]) from exc
    except TypeError as exc:
        raise FrameError("invalid_json", "frame is not valid JSON") from exc
    if not isinstance(data, dict):
        raise FrameError("invalid_json", "frame must be a JSON object")
    data = {k: scrub(v) if k in FREE_TEXT_FIELDS and isinstance(v, str) else v for k, v in data.items()}
    client_msg_id = data.get("client_msg_id") if isinstance(data.get("client_msg_id"), str) else None
    if scrub_value(data) != data:  # an id or name that is not valid Unicode cannot be stored or sent
        raise FrameError("invalid_frame", "frame contains text that is not valid Unicode",
                         None if client_msg_id is None or has_surrogate(client_msg_id) else client_msg_id)
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise FrameError("missing_field", "field 'action' is required", client_msg_id, details=["action"])
    model = models.get(action)
    if model is None:
        raise FrameError("unknown_action", f"unknown action {action!r}", client_msg_id)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _frame_error(exc, client_msg_id) from exc


def _frame_error(exc: ValidationError, client_msg_id: str | None) -> FrameError:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    fields = [".".join(str(p) for p in e["loc"]) or "frame" for e in errors]
    kinds = {e["type"] for e in errors}
    if "missing" in kinds:
        missing = [f for f, e in zip(fields, errors, strict=True) if e["type"] == "missing"]
        return FrameError("missing_field", f"missing field(s): {', '.join(missing)}", client_msg_id, missing)
    if "string_too_long" in kinds and "text" in fields:
        return FrameError("text_too_long", f"text is longer than {MAX_TEXT_CHARS} characters", client_msg_id,
                          ["text"])
    if "string_too_short" in kinds or any("blank" in e["msg"] for e in errors):
        return FrameError("empty_field", f"empty field(s): {', '.join(fields)}", client_msg_id, fields)
    detail = "; ".join(f"{f}: {e['msg']}" for f, e in zip(fields, errors, strict=True))
    return FrameError("invalid_frame", detail, client_msg_id, fields)


# -- server frames ---------------------------------------------------------------------------


def ack(client_msg_id: str, message_id: str, seq: int, ts: str, conversation_id: str,
        duplicate: bool = False) -> dict[str, Any]:
    frame = {"type": "ack", "client_msg_id": client_msg_id, "message_id": message_id, "seq": seq, "ts": ts,
             "conversation_id": conversation_id}
    if duplicate:
        frame["duplicate"] = True
    return frame


def ack_for(client_msg_id: str, result: AppendResult) -> dict[str, Any]:
    """The ack of a stored message (`duplicate` when it had been stored before)."""
    m = result.message
    return ack(client_msg_id, m.message_id, m.seq, m.ts, m.conversation_id, duplicate=result.duplicate)


def message(payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "message": payload}


def history(messages: list[dict[str, Any]], has_more: bool, conversation_id: str | None) -> dict[str, Any]:
    return {"type": "history", "conversation_id": conversation_id, "messages": messages, "has_more": has_more}


def error(code: str, message_text: str, client_msg_id: str | None = None, details: object = None, *,
          retryable: bool = False) -> dict[str, Any]:
    """An `error` frame; `retryable` when the same frame may simply be sent again later (an outage)."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message_text}
    if client_msg_id:
        frame["client_msg_id"] = client_msg_id
    if details is not None:
        frame["details"] = details
    if retryable:
        frame["retryable"] = True
    return frame


def pong() -> dict[str, Any]:
    return {"type": "pong"}


def delivery(conversation_id: str, message_id: str, seq: int, channel: str, status: str,
             error: dict[str, Any] | None) -> dict[str, Any]:
    """To agents watching a conversation: the customer's platform did not get a message."""
    return {"type": "delivery", "conversation_id": conversation_id, "message_id": message_id, "seq": seq,
            "channel": channel, "status": status, "error": error}


def agent_message(message: dict[str, Any]) -> dict[str, Any]:
    """To the assigned agent: the whole message, `meta` (bot scores) and notes included."""
    return {"type": "message", "message": message}


def tickets(items: list[dict[str, Any]]) -> dict[str, Any]:
    """To a customer: their tickets (`tickets` frame answer), newest first."""
    return {"type": "tickets", "tickets": items}


def consent(channel: str, granted: bool, at_ms: int) -> dict[str, Any]:
    """To a customer: their marketing consent as now recorded."""
    return {"type": "consent", "channel": channel, "granted": granted, "at_ms": at_ms}


def typed(frame_type: str, **fields: Any) -> dict[str, Any]:
    """A frame whose fields are a domain answer as it is (`assigned`, `resolved`, `status`, `queue` ...)."""
    return {**fields, "type": frame_type}
