"""Posting frames to WebSocket connections through the API Gateway management API.

Every function can push, not only the WebSocket ones: each connection remembers the management
endpoint of the API it came through, and clients are cached per endpoint.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.errors import ConnectionGone
from chalicelib.store.dynamo import error_code

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


def management_endpoint(request_context: Mapping[str, Any], region: str, override: str | None) -> str:
    """The management API URL for the API a connection came through (as Chalice derives it)."""
    if override:
        return override.rstrip("/")
    suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
    return f"https://{request_context['apiId']}.execute-api.{region}{suffix}/{request_context['stage']}"


class Pusher:
    def __init__(self, client_for_endpoint: Callable[[str], Any]) -> None:
        self._client_for = client_for_endpoint

    def send(self, endpoint: str, connection_id: str, frame: Mapping[str, Any]) -> None:
        """Post one JSON frame; raises ConnectionGone when API Gateway answers 410."""
        data = json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            self._client_for(endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            if error_code(exc) == "GoneException" or exc.response.get("ResponseMetadata", {}).get(
                "HTTPStatusCode"
            ) == 410:
                raise ConnectionGone(connection_id) from exc
            raise
