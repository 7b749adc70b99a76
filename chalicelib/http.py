"""REST edge helpers shared by every route: one error translation and agent authentication.

`rest_errors` wraps a route body so domain errors (`chalicelib.errors.DomainError` and
subclasses, pydantic `ValidationError` on request bodies) become JSON 4xx answers
`{"code", "message", "details"?}` with the error's own status; anything else propagates (500).
`agent_claims(request, roles)` checks `Authorization: Bearer <token>` (a Cognito access token of
the agents' pool, or an HS256 JWT signed with AGENT_TOKEN_SECRET) and the agent's role.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.errors import DomainError, Forbidden, InvalidInput

T = TypeVar("T", bound=BaseModel)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    from chalice import Response

    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def error_response(exc: DomainError) -> Any:
    return json_response(exc.to_dict(), exc.status)


def rest_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Translate domain and validation errors raised by a route into JSON error responses."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            return error_response(exc)
        except ValidationError as exc:
            details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            return error_response(InvalidInput("request body is not valid", details=details))

    return wrapper


def parse_body(request: Any, model: type[T]) -> T:
    """The request's JSON body validated into `model` (InvalidInput when it is not JSON)."""
    raw = request.raw_body or b""
    try:
        data = json.loads(raw) if raw else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("request body must be JSON", code="invalid_json") from exc
    return model.model_validate(data)


def agent_claims(request: Any, roles: Iterable[str] = ("agent", "supervisor", "admin")) -> Any:
    """The verified agent behind `Authorization: Bearer …`; Forbidden if the role is not allowed."""
    from chalicelib import wiring
    from chalicelib.auth.tokens import bearer_token

    headers = request.headers or {}
    token = bearer_token(headers.get("authorization") or headers.get("Authorization"))
    claims = wiring.agent_verifier().verify(token)
    if claims.role not in set(roles):
        raise Forbidden(f"role {claims.role} may not do this", code="role_forbidden")
    return claims
