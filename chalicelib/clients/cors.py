"""CORS for the REST routes browsers call from a company's own pages (the widget's guest tokens).

Only origins listed in CORS_ALLOWED_ORIGINS (comma-separated, exact `scheme://host[:port]`) get
`Access-Control-Allow-Origin` (their own origin echoed, with `Vary: Origin`); every other origin
gets no CORS headers, so the browser blocks the response. No wildcard, no credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class CorsPolicy:
    origins: frozenset[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CorsPolicy:
        env = os.environ if env is None else env
        raw = env.get("CORS_ALLOWED_ORIGINS") or ""
        return cls(frozenset(o.strip().rstrip("/") for o in raw.split(",") if o.strip() and o.strip() != "*"))

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and origin in self.origins

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Headers to add to an answer for a request from `origin` (none for an origin not listed)."""
        if not self.allows(origin):
            return {"Vary": "Origin"}
        assert origin is not None
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight(self, origin: str | None) -> tuple[int, dict[str, str]]:
        """The answer to an `OPTIONS` preflight: 204 with the allowed methods and headers, or 403."""
        if not self.allows(origin):
            return 403, {"Vary": "Origin"}
        return 204, {**self.response_headers(origin), "Access-Control-Allow-Methods": ALLOWED_METHODS,
                     "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                     "Access-Control-Max-Age": str(MAX_AGE_SECONDS)}


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A request header, case-insensitively."""
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None
