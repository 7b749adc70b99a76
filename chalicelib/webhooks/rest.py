"""`/webhooks/{channel}`: the platforms' HTTP requests in, their expected answers out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chalice.app import Request, Response

from chalicelib.channels.models import WebhookRequest

if TYPE_CHECKING:
    from chalicelib.webhooks.inbound import WebhookResponse, WebhookService


class WebhooksRest:
    def __init__(self, webhooks: WebhookService) -> None:
        self._webhooks = webhooks

    def receive(self, request: Request, channel: str) -> Response:
        return _response(self._webhooks.receive(channel, WebhookRequest.from_chalice(request)))

    def handshake(self, request: Request, channel: str) -> Response:
        return _response(self._webhooks.handshake(channel, WebhookRequest.from_chalice(request)))


def _response(result: WebhookResponse) -> Response:
    body = result.body if isinstance(result.body, str) else json.dumps(result.body)
    return Response(status_code=result.status, body=body, headers={"Content-Type": result.content_type})
