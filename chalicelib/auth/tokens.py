"""Verification of customer and agent tokens.

Customers: `sub` = customer id, `exp` required, optional `name` and `vip`, signed with
CUSTOMER_TOKEN_SECRET. Agents: `sub` = agent id, `role` in agent/supervisor/admin, signed with
AGENT_TOKEN_SECRET. Only HS256 is accepted, so a token can never choose its own algorithm.
"""

from __future__ import annotations

from typing import Any, Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"
LEEWAY_SECONDS = 30


class CustomerClaims(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sub: str = Field(min_length=1, max_length=128)
    exp: int
    name: str | None = Field(default=None, max_length=200)
    vip: bool = False


class AgentClaims(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sub: str = Field(min_length=1, max_length=128)
    exp: int
    role: Literal["agent", "supervisor", "admin"] = "agent"
    name: str | None = Field(default=None, max_length=200)


def _decode(token: str | None, secret: str) -> dict[str, Any]:
    if not token:
        raise Unauthorized("a token is required", code="token_missing")
    try:
        return jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]},
                          leeway=LEEWAY_SECONDS)
    except jwt.ExpiredSignatureError as exc:
        raise Forbidden("token has expired", code="token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Forbidden("token is not valid", code="token_invalid") from exc


def verify_customer(token: str | None, secret: str) -> CustomerClaims:
    try:
        return CustomerClaims.model_validate(_decode(token, secret))
    except ValidationError as exc:
        raise Forbidden("token claims are not valid", code="token_invalid") from exc


def verify_agent(token: str | None, secret: str) -> AgentClaims:
    try:
        return AgentClaims.model_validate(_decode(token, secret))
    except ValidationError as exc:
        raise Forbidden("token claims are not valid", code="token_invalid") from exc


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
