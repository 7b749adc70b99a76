"""Domain errors, raised inside chalicelib and translated once at the edge.

Each carries a stable machine-readable `code` (what clients switch on) and the HTTP status the
REST edge maps it to; the WebSocket edge turns the same errors into `error` frames.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class ConnectionGone(Exception):
    """The API Gateway connection no longer exists (HTTP 410 from the management API)."""
