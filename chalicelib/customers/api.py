"""REST handlers of `/customers/...` (agent-authenticated; merges need supervisor or admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth.roles import SUPERVISORS
from chalicelib.customers.service import CustomerService, MergeRequest, UndoRequest
from chalicelib.errors import InvalidInput
from chalicelib.http import json_response, parse_body, rest_errors

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chalice.app import Request, Response

    from chalicelib.auth.authenticator import AgentAuthenticator


class CustomersRest:
    def __init__(self, customers: CustomerService, auth: AgentAuthenticator) -> None:
        self._customers = customers
        self._auth = auth

    @rest_errors
    def lookup(self, request: Request) -> Response:
        self._auth.claims(request)
        query: Mapping[str, str] = request.query_params or {}
        return json_response(self._customers.lookup(query.get("channel"), query.get("external_id")))

    @rest_errors
    def profile(self, request: Request, customer_id: str) -> Response:
        self._auth.claims(request)
        return json_response(self._customers.profile(customer_id))

    @rest_errors
    def timeline(self, request: Request, customer_id: str) -> Response:
        self._auth.claims(request)
        query: Mapping[str, str] = request.query_params or {}
        raw = query.get("limit", "200")
        if not raw.isdigit():
            raise InvalidInput("limit must be a positive integer", code="invalid_limit")
        return json_response(self._customers.timeline(customer_id, int(raw)))

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
