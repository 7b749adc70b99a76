"""Errors raised by the channel layer.

Each carries a stable ``code`` and, where it maps to a webhook response, the HTTP
``status`` the route should answer with (mirroring ``chalicelib.errors.DomainError``
so the edge can translate them the same way). ``SendError`` says whether a failed
platform call may be retried (``retryable``) or the access token must be refreshed.
"""

from __future__ import annotations

from typing import Any


class ChannelError(Exception):
    code = "channel_error"
    status = 500

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.reason}


class ConfigurationError(ChannelError):
    """A required secret/config value is missing (a deployment problem, answer 500)."""

    code = "channel_misconfigured"
    status = 500


class SignatureError(ChannelError):
    """Authentication of a webhook failed: 401 when credentials are missing, 403 when wrong."""

    code = "invalid_signature"

    def __init__(self, reason: str, *, status: int = 403) -> None:
        super().__init__(reason)
        self.status = status


class MalformedPayload(ChannelError):
    """The (authenticated) body cannot be understood: answer 400."""

    code = "malformed_payload"
    status = 400


class PolicyViolation(ChannelError):
    """The message breaks a channel rule (e.g. ``outside_24h_window``); never sent."""

    status = 422

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class SendError(ChannelError):
    """A platform API call failed.

    ``retryable`` is True for 429, 5xx, network errors and platform "busy" codes;
    ``token_expired`` asks the caller to refresh the access token and retry once;
    ``retry_after`` (seconds) is set when the platform says how long to wait;
    ``completed_calls`` counts calls of the same message that already succeeded.
    """

    code = "send_failed"
    status = 502

    def __init__(
        self,
        status: int,
        platform_error: object,
        retryable: bool,
        *,
        token_expired: bool = False,
        retry_after: float | None = None,
        completed_calls: int = 0,
    ) -> None:
        super().__init__(f"platform call failed with {status}: {platform_error!r}"[:500])
        self.http_status = status
        self.platform_error = platform_error
        self.retryable = retryable
        self.token_expired = token_expired
        self.retry_after = retry_after
        self.completed_calls = completed_calls
