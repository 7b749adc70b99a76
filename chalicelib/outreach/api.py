"""REST for outreach (the routes are declared in app.py), each authenticated and role-checked.

- templates: `GET /templates` (any desk role: agents choose one in a reply), `GET /admin/templates`,
  `PUT|GET|DELETE /admin/templates/{template_id}/{language}` (admins);
- `POST /conversations` (agents, supervisors, admins): start or continue a conversation;
- campaigns (supervisors, admins): `POST|GET /campaigns`, `GET /campaigns/{id}` (with its delivery
  report), `POST /campaigns/{id}/start`, `POST /campaigns/{id}/cancel`;
- `PUT /customers/{id}/tags` (supervisors, admins): the tags campaign segments select on;
- `GET /customers/{id}/outreach` (supervisors, admins): the customer's follow-ups and opt-outs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.auth.roles import ADMINS, ANY_ROLE, SUPERVISORS
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.http import json_response, parse_body, rest_errors
from chalicelib.outreach.campaigns import CampaignInput
from chalicelib.outreach.initiate import StartConversation
from chalicelib.outreach.templates import TemplateInput

if TYPE_CHECKING:
    from chalice.app import Request, Response

    from chalicelib.auth.authenticator import AgentAuthenticator
    from chalicelib.outreach.campaigns import Campaigns
    from chalicelib.outreach.consent import OptOutStore
    from chalicelib.outreach.followups import FollowUpStore
    from chalicelib.outreach.initiate import Initiator
    from chalicelib.outreach.templates import TemplateStore

_ID = r"^[A-Za-z0-9_.-]{1,64}$"
_LANGUAGE = r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$"


class TagsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]] = Field(
        max_length=50)


class OutreachRest:
    def __init__(self, templates: TemplateStore, initiator: Initiator, campaigns: Campaigns,
                 followups: FollowUpStore, opt_outs: OptOutStore, auth: AgentAuthenticator) -> None:
        self._templates = templates
        self._initiator = initiator
        self._campaigns = campaigns
        self._followups = followups
        self._opt_outs = opt_outs
        self._auth = auth

    # -- templates -----------------------------------------------------------------------------

    @rest_errors
    def list_templates(self, request: Request, *, admin: bool = False) -> Response:
        self._auth.claims(request, ADMINS if admin else ANY_ROLE)
        found = self._templates.all()
        if not admin:
            found = [t for t in found if t.usable]
        return json_response([t.model_dump() for t in found])

    @rest_errors
    def template(self, request: Request, template_id: str, language: str) -> Response:
        claims = self._auth.claims(request, ADMINS)
        _check(template_id, _ID, "template_id")
        _check(language, _LANGUAGE, "language")
        if request.method == "PUT":
            saved = self._templates.put(template_id, language, parse_body(request, TemplateInput), claims.sub)
            return json_response(saved.model_dump())
        current = self._templates.get(template_id, language)
        if current is None:
            raise NotFound(f"template {template_id} ({language}) not found", code="template_not_found")
        if request.method == "DELETE":
            self._templates.delete(template_id, language)
            return json_response({"template_id": template_id, "language": language, "deleted": True})
        return json_response(current.model_dump())

    # -- agent-initiated conversations ---------------------------------------------------------

    @rest_errors
    def start_conversation(self, request: Request) -> Response:
        claims = self._auth.claims(request, ANY_ROLE)
        answer, created = self._initiator.start(claims.sub, claims.name, parse_body(request, StartConversation))
        return json_response(answer, 201 if created else 200)

    # -- campaigns -----------------------------------------------------------------------------

    @rest_errors
    def campaigns(self, request: Request) -> Response:
        claims = self._auth.claims(request, SUPERVISORS)
        if request.method == "POST":
            campaign = self._campaigns.create(parse_body(request, CampaignInput), claims.sub)
            return json_response(campaign.model_dump(exclude={"cursor_start"}), 201)
        return json_response([c.model_dump(exclude={"cursor_start"}) for c in self._campaigns.store.latest()])

    @rest_errors
    def campaign(self, request: Request, campaign_id: str) -> Response:
        self._auth.claims(request, SUPERVISORS)
        return json_response(self._campaigns.report(campaign_id))

    @rest_errors
    def campaign_action(self, request: Request, campaign_id: str, verb: str) -> Response:
        self._auth.claims(request, SUPERVISORS)
        if verb == "start":
            return json_response(self._campaigns.start(campaign_id).model_dump(exclude={"cursor_start"}), 202)
        if verb == "cancel":
            return json_response(self._campaigns.cancel(campaign_id).model_dump(exclude={"cursor_start"}))
        raise NotFound(f"unknown action {verb}")

    # -- customers -----------------------------------------------------------------------------

    @rest_errors
    def customer_tags(self, request: Request, customer_id: str) -> Response:
        self._auth.claims(request, SUPERVISORS)
        return json_response(self._campaigns.set_tags(customer_id, parse_body(request, TagsBody).tags))

    @rest_errors
    def customer_outreach(self, request: Request, customer_id: str) -> Response:
        self._auth.claims(request, SUPERVISORS)
        return json_response({
            "customer_id": customer_id,
            "followups": [f.model_dump(exclude_none=True) for f in self._followups.for_customer(customer_id)],
            "opt_outs": [vars(o) for o in self._opt_outs.opt_outs(customer_id)],
        })


def _check(value: str, pattern: str, what: str) -> None:
    import re

    if not re.fullmatch(pattern, value):
        raise InvalidInput(f"{what} {value!r} is not valid", code=f"invalid_{what}")
