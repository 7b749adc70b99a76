"""REST handlers of `/customers/...` (agent-authenticated; merges need supervisor or admin)."""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.customers.service import MergeRequest, UndoRequest
from chalicelib.errors import InvalidInput
from chalicelib.http import agent_claims, json_response, parse_body, rest_errors

MERGE_ROLES = ("supervisor", "admin")


@rest_errors
def lookup(request: Any) -> Any:
    agent_claims(request)
    query = request.query_params or {}
    return json_response(wiring.customers().lookup(query.get("channel"), query.get("external_id")))


@rest_errors
def profile(request: Any, customer_id: str) -> Any:
    agent_claims(request)
    return json_response(wiring.customers().profile(customer_id))


@rest_errors
def timeline(request: Any, customer_id: str) -> Any:
    agent_claims(request)
    raw = (request.query_params or {}).get("limit", "200")
    if not raw.isdigit():
        raise InvalidInput("limit must be a positive integer", code="invalid_limit")
    return json_response(wiring.customers().timeline(customer_id, int(raw)))


@rest_errors
def merge(request: Any, customer_id: str) -> Any:
    claims = agent_claims(request, MERGE_ROLES)
    body = parse_body(request, MergeRequest)
    return json_response(wiring.customers().merge(customer_id, body, claims.sub, claims.role), 201)


@rest_errors
def undo_merge(request: Any, customer_id: str, audit_id: str) -> Any:
    claims = agent_claims(request, MERGE_ROLES)
    parse_body(request, UndoRequest)
    return json_response(wiring.customers().undo(customer_id, audit_id, claims.sub))
