"""REST edge of the clients package: `POST /auth/guest` as a Chalice response."""

from __future__ import annotations

from typing import Any

from chalicelib.clients.cors import header
from chalicelib.clients.guest import GuestTokens, TooManyRequests
from chalicelib.http import json_response, rest_errors


def guest_token(tokens: GuestTokens, request: Any) -> Any:
    """200 `{token, customer_id, expires_at, renewed}` (never cached); 429 with Retry-After past the limit."""
    source_ip = ((request.context or {}).get("identity") or {}).get("sourceIp")

    def issue() -> Any:
        try:
            issued = tokens.issue(source_ip, header(request.headers, "authorization"))
        except TooManyRequests as exc:
            return json_response(exc.to_dict(), exc.status,
                                 {"Retry-After": str(exc.details["retry_after_seconds"]), "Cache-Control": "no-store"})
        return json_response(issued, headers={"Cache-Control": "no-store"})

    return rest_errors(issue)()
