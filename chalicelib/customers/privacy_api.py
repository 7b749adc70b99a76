"""REST handlers of the privacy routes (issue 16), all agent-authenticated and audited.

- `GET /customers/{id}/export` (admin): everything stored about the customer, one JSON document;
  the read is written to the access audit (action `export`) like every profile or timeline read.
- `DELETE /customers/{id}` (admin, body `{"reason": ...}`): erasure; 200 with the erasure record
  (`already_erased` when it had been completed before), the same call finishes an interrupted one.
- `GET /customers/{id}/consent` (supervisor, admin; audited as `consent`) and
  `PUT /customers/{id}/consent/{channel}` (admin: the company's backend) `{"granted": bool, "note"?}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from chalicelib.auth.roles import ADMINS, SUPERVISORS
from chalicelib.customers.consent import ChannelName, ConsentInput
from chalicelib.customers.privacy import ErasureRequest
from chalicelib.errors import InvalidInput
from chalicelib.http import json_response, parse_body, rest_errors

if TYPE_CHECKING:
    from chalice.app import Request, Response

    from chalicelib.auth.authenticator import AgentAuthenticator
    from chalicelib.customers.access import CustomerAccess
    from chalicelib.customers.consent import ConsentStore
    from chalicelib.customers.privacy import PrivacyRights

_CHANNEL: TypeAdapter[str] = TypeAdapter(ChannelName)


class PrivacyRest:
    def __init__(self, privacy: PrivacyRights, consent: ConsentStore, access: CustomerAccess,
                 auth: AgentAuthenticator) -> None:
        self._privacy = privacy
        self._consent = consent
        self._access = access
        self._auth = auth

    @rest_errors
    def export(self, request: Request, customer_id: str) -> Response:
        claims = self._auth.claims(request, ADMINS)
        return json_response(self._access.read(claims, customer_id, "export",
                                               lambda: self._privacy.export(customer_id)))

    @rest_errors
    def erase(self, request: Request, customer_id: str) -> Response:
        claims = self._auth.claims(request, ADMINS)
        body = parse_body(request, ErasureRequest)
        record, before = self._privacy.erase(customer_id, body.reason, claims.sub)
        return json_response({**record.model_dump(exclude_none=True), "already_erased": before})

    @rest_errors
    def get_consent(self, request: Request, customer_id: str) -> Response:
        claims = self._auth.claims(request, SUPERVISORS)
        return json_response(self._access.read(claims, customer_id, "consent", lambda: {
            "customer_id": customer_id,
            "consent": [c.model_dump() for c in self._consent.for_customer(customer_id)]}))

    @rest_errors
    def put_consent(self, request: Request, customer_id: str, channel: str) -> Response:
        claims = self._auth.claims(request, ADMINS)
        try:
            channel = _CHANNEL.validate_python(channel)
        except ValidationError as exc:
            raise InvalidInput("channel must be a channel name or 'all'", code="invalid_channel") from exc
        body = parse_body(request, ConsentInput)
        record = self._consent.record(customer_id, channel, body.granted, "backend", actor=claims.sub, note=body.note)
        return json_response(record.model_dump(exclude_none=True))
