"""REST edge helpers shared by every route: one error translation and agent authentication.

`rest_errors` wraps a route body so domain errors (`chalicelib.errors.DomainError` and
subclasses, pydantic `ValidationError` on request bodies) become JSON 4xx answers
`{"code", "message", "details"?}` with the error's own status; anything else propagates (500).
Who may call a route is checked by `chalicelib.auth.authenticator`.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from chalice.app import Response
from pydantic import BaseModel, ValidationError

from chalicelib.errors import DomainError, InvalidInput
from chalicelib.safeinput import UnsafeJson, loads_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalice.app import Request

T = TypeVar("T", bound=BaseModel)
P = ParamSpec("P")


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def error_response(exc: DomainError) -> Response:
    return json_response(exc.to_dict(), exc.status)


def rest_errors(fn: Callable[P, Response]) -> Callable[P, Response]:
    """Translate domain and validation errors raised by a route into JSON error responses."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            return error_response(exc)
        except ValidationError as exc:
            details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            return error_response(InvalidInput("request body is not valid", details=details))

    return wrapper


def parse_body(request: Request, model: type[T]) -> T:
    """The request's JSON body validated into `model` (InvalidInput when it is not JSON)."""
    raw = request.raw_body or b""
    try:
        data = loads_json(raw) if raw else {}
    except UnsafeJson as exc:  # not JSON, or nested too deep / numbers too long (issue 13)
        raise InvalidInput("request body must be JSON", code="invalid_json", details=[str(exc)[:200]]) from exc
    return model.model_validate(data)

