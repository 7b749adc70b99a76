"""The one authenticator of REST requests made by agents, supervisors and admins.

`Authorization: Bearer <token>` (a Cognito access token of the agents' pool, or an HS256 JWT signed
with AGENT_TOKEN_SECRET) is verified and its role
checked against the roles a route allows (`chalicelib.auth.roles`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth.roles import ANY_ROLE
from chalicelib.auth.tokens import AgentClaims, bearer_token
from chalicelib.errors import Forbidden

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from chalice.app import Request


class AgentAuthenticator:
    def __init__(self, verify: Callable[[str | None], AgentClaims]) -> None:
        self._verify = verify  # chalicelib.auth.cognito.AgentTokenVerifier.verify: Cognito or HS256

    def claims(self, request: Request, roles: Iterable[str] = ANY_ROLE) -> AgentClaims:
        """The verified agent behind the request; Forbidden if their role is not among `roles`."""
        return self.from_headers(request.headers, roles)

    def from_headers(self, headers: Mapping[str, str] | None, roles: Iterable[str] = ANY_ROLE) -> AgentClaims:
        authorization = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
        claims = self._verify(bearer_token(authorization))
        if claims.role not in set(roles):
            raise Forbidden(f"role {claims.role} may not do this", code="role_forbidden")
        return claims
