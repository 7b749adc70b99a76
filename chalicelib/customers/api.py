"""REST handlers of `/customers/...` (agent-authenticated; merges need supervisor or admin).

Reads go through `CustomerAccess` (issue 13): an agent reads only customers offered or assigned to
them, supervisors and admins all, and every read is written to the access audit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth.roles import SUPERVISORS
from chalicelib.customers.service import MergeRequest, UndoRequest
from chalicelib.errors import InvalidInput
from chalicelib.http import json_response, parse_body, rest_errors

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chalice.app import Request, Response

    from chalicelib.auth.authenticator import AgentAuthenticator
    from chalicelib.customers.access import CustomerAccess
    from chalicelib.customers.service import CustomerService


class CustomersRest:
    def __init__(self, customers: CustomerService, access: CustomerAccess, auth: AgentAuthenticator) -> None:
        self._customers = customers
        self._access = access
        self._auth = auth

    @rest_errors
    def lookup(self, request: Request) -> Response:
        claims = self._auth.claims(request)
        query: Mapping[str, str] = request.query_params or {}
        return json_response(self._access.lookup(claims, query.get("channel"), query.get("external_id"),
                                                 self._customers.profile))

    @rest_errors
    def profile(self, request: Request, customer_id: str) -> Response:
        claims = self._auth.claims(request)
        return json_response(self._access.read(claims, customer_id, "profile",
                                               lambda: self._customers.profile(customer_id)))

    @rest_errors
    def timeline(self, request: Request, customer_id: str) -> Response:
        claims = self._auth.claims(request)
        limit = _limit(request, "200")
        return json_response(self._access.read(claims, customer_id, "timeline",
                                               lambda: self._customers.timeline(customer_id, limit)))

    @rest_errors
    def access_log(self, request: Request, customer_id: str | None = None) -> Response:
        """Supervisors and admins: reads of one customer (`/customers/{id}/access-log`) or by one agent."""
        claims = self._auth.claims(request)
        query: Mapping[str, str] = request.query_params or {}
        return json_response(self._access.entries(claims, customer_id=customer_id, agent_id=query.get("agent_id"),
                                                  limit=_limit(request, "50")))

    @rest_errors
    def merge(self, request: Request, customer_id: str) -> Response:
        claims = self._auth.claims(request, SUPERVISORS)
        body = parse_body(request, MergeRequest)
        return json_response(self._customers.merge(customer_id, body, claims.sub, claims.role), 201)

    @rest_errors
    def undo_merge(self, request: Request, customer_id: str, audit_id: str) -> Response:
        claims = self._auth.claims(request, SUPERVISORS)
        parse_body(request, UndoRequest)
        return json_response(self._customers.undo(customer_id, audit_id, claims.sub))


def _limit(request: Request, default: str) -> int:
    query: Mapping[str, str] = request.query_params or {}
    raw = query.get("limit", default)
    if not raw.isdigit():
        raise InvalidInput("limit must be a positive integer", code="invalid_limit")
    return int(raw)
