"""GET /admin/sla-policies: the policy each priority's tickets get, stored or default (issue 11 follow-up)."""

from __future__ import annotations

from support import agent_token

from chalicelib.tickets.models import DEFAULT_SLA


def test_sla_policies_read_shows_defaults_until_a_policy_is_stored(desk):
    # given a fresh desk: every priority has its default policy, marked as not stored
    status, policies = desk.rest("GET", "/admin/sla-policies", desk.admin)
    assert status == 200
    assert [p["priority"] for p in policies] == ["urgent", "high", "normal", "low"]
    assert all(not p["stored"] for p in policies)
    assert {p["priority"]: p["first_response_minutes"] for p in policies} == {
        k: v.first_response_minutes for k, v in DEFAULT_SLA.items()}

    # when an admin stores the urgent policy
    stored = {"first_response_minutes": 7, "resolution_minutes": 90, "business_hours": False}
    assert desk.rest("PUT", "/admin/sla-policies/urgent", desk.admin, stored)[0] == 200

    # then a supervisor reads it back, and the other priorities keep their defaults
    status, policies = desk.rest("GET", "/admin/sla-policies", agent_token("sue", "supervisor"))
    assert status == 200
    by_priority = {p.pop("priority"): p for p in policies}
    assert by_priority["urgent"] == {**stored, "stored": True}
    assert by_priority["high"] == {**DEFAULT_SLA["high"].model_dump(), "stored": False}


def test_sla_policies_are_not_for_agents_or_anonymous_callers(desk):
    status, body = desk.rest("GET", "/admin/sla-policies", agent_token("amy"))
    assert status == 403 and body["code"]
    assert desk.rest("GET", "/admin/sla-policies", None)[0] == 401
