"""The one authenticator of REST requests made by agents, supervisors and admins.

`Authorization: Bearer <agent JWT>` (HS256, signed with AGENT_TOKEN_SECRET) is verified and its role
checked against the roles a route allows (`chalicelib.auth.roles`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth.roles import ANY_ROLE
from chalicelib.auth.tokens import AgentClaims, bearer_token, verify_agent
from chalicelib.errors import Forbidden

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from chalice.app import Request


class AgentAuthenticator:
    def __init__(self, secret: Callable[[str], str]) -> None:
        self._secret = secret

    def claims(self, request: Request, roles: Iterable[str] = ANY_ROLE) -> AgentClaims:
        """The verified agent behind the request; Forbidden if their role is not among `roles`."""
        return self.from_headers(request.headers, roles)

    def from_headers(self, headers: Mapping[str, str] | None, roles: Iterable[str] = ANY_ROLE) -> AgentClaims:
        authorization = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
        claims = verify_agent(bearer_token(authorization), self._secret("AGENT_TOKEN_SECRET"))
        if claims.role not in set(roles):
            raise Forbidden(f"role {claims.role} may not do this", code="role_forbidden")
        return claims
