"""REST handlers of `/customers/...` (agent-authenticated; merges need supervisor or admin).

Reads go through `wiring.customer_access()` (issue 13): an agent reads only customers offered or
assigned to them, supervisors and admins all, and every read is written to the access audit.
"""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.customers.service import MergeRequest, UndoRequest
from chalicelib.errors import InvalidInput
from chalicelib.http import agent_claims, json_response, parse_body, rest_errors

MERGE_ROLES = ("supervisor", "admin")


@rest_errors
def lookup(request: Any) -> Any:
    claims = agent_claims(request)
    query = request.query_params or {}
    return json_response(wiring.customer_access().lookup(claims, query.get("channel"), query.get("external_id"),
                                                         wiring.customers().profile))


@rest_errors
def profile(request: Any, customer_id: str) -> Any:
    claims = agent_claims(request)
    return json_response(wiring.customer_access().read(claims, customer_id, "profile",
                                                       lambda: wiring.customers().profile(customer_id)))


@rest_errors
def timeline(request: Any, customer_id: str) -> Any:
    claims = agent_claims(request)
    limit = _limit(request, "200")
    return json_response(wiring.customer_access().read(claims, customer_id, "timeline",
                                                       lambda: wiring.customers().timeline(customer_id, limit)))


@rest_errors
def access_log(request: Any, customer_id: str | None = None) -> Any:
    """Supervisors and admins: reads of one customer (`/customers/{id}/access-log`) or by one agent."""
    claims = agent_claims(request)
    agent_id = (request.query_params or {}).get("agent_id")
    return json_response(wiring.customer_access().entries(claims, customer_id=customer_id, agent_id=agent_id,
                                                          limit=_limit(request, "50")))


def _limit(request: Any, default: str) -> int:
    raw = (request.query_params or {}).get("limit", default)
    if not raw.isdigit():
        raise InvalidInput("limit must be a positive integer", code="invalid_limit")
    return int(raw)


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
