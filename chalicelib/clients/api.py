"""REST edge of the clients package: `POST /auth/guest` (and its CORS preflight) as Chalice responses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Response

from chalicelib.clients.cors import header
from chalicelib.clients.guest import TooManyRequests
from chalicelib.http import json_response, rest_errors

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chalice.app import Request

    from chalicelib.clients.cors import CorsPolicy
    from chalicelib.clients.guest import GuestTokens


class GuestRest:
    def __init__(self, tokens: GuestTokens, cors: CorsPolicy) -> None:
        self._tokens = tokens
        self._cors = cors

    @rest_errors
    def token(self, request: Request) -> Response:
        """200 `{token, customer_id, expires_at, renewed}` (never cached); 429 with Retry-After past the limit."""
        context: Mapping[str, object] = request.context or {}
        identity = context.get("identity")
        source_ip = identity.get("sourceIp") if isinstance(identity, dict) else None
        try:
            issued = self._tokens.issue(source_ip, header(request.headers, "authorization"))
        except TooManyRequests as exc:
            return json_response(exc.to_dict(), exc.status,
                                 {"Retry-After": str(exc.retry_after_seconds), "Cache-Control": "no-store"})
        return json_response(issued, headers={"Cache-Control": "no-store"})

    def preflight(self, request: Request) -> Response:
        status, headers = self._cors.preflight(header(request.headers, "origin"))
        return Response(body="", status_code=status, headers=dict(headers))
