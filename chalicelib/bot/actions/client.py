"""The signed call to the company's API: 2 s timeout, bounded retries, a circuit breaker per endpoint.

The request is a JSON POST signed exactly like the generic webhook channel
(:func:`chalicelib.channels.generic.signed_headers`: ``X-Signature-Timestamp`` and
``X-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``), with an ``Idempotency-Key``.
Timeouts, network errors and 5xx are retried (``ActionSpec.retries``, at most 2) after a short
pause; 4xx are not (404 means "not found for this customer"). Every call's outcome is one of
:data:`Failure` or success with a JSON object; nothing else escapes, so the bot can always answer.
The breaker is consulted before and told after each call (not each attempt).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger

from chalicelib.bot.action_spec import check_url
from chalicelib.channels.generic import signed_headers

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.bot.action_spec import ActionSpec
    from chalicelib.bot.actions.breaker import CircuitBreaker

logger = Logger(child=True)

Failure = Literal["timeout", "network", "server_error", "client_error", "not_found", "bad_response",
                  "circuit_open", "not_configured"]
RETRYABLE: frozenset[str] = frozenset({"timeout", "network", "server_error"})
MAX_RESPONSE_BYTES = 256 * 1024
USER_AGENT = "cs-platform-actions/1.0"


@dataclass(frozen=True)
class ActionResult:
    data: dict[str, Any] | None = None
    failure: Failure | None = None
    status: int | None = None
    attempts: int = 0
    elapsed_ms: int = 0
    endpoint: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None and self.data is not None

    def meta(self) -> dict[str, Any]:
        return {k: v for k, v in {"failure": self.failure, "status": self.status, "attempts": self.attempts,
                                  "elapsed_ms": self.elapsed_ms}.items() if v is not None}


@dataclass(frozen=True)
class _Attempt:
    data: dict[str, Any] | None = None
    failure: Failure | None = None
    status: int | None = None


@dataclass
class ActionClient:
    """``call(spec, payload)``: the signed POST with its retries, behind the endpoint's breaker."""

    config: Callable[[str], str | None]  # secrets / configuration by name (chalicelib.secrets.Secrets.get)
    breaker: CircuitBreaker
    sleep: Callable[[float], None] = time.sleep
    backoff_seconds: float = 0.2
    clock: Callable[[], float] = field(default=time.monotonic)

    def call(self, spec: ActionSpec, payload: dict[str, Any]) -> ActionResult:
        started = self.clock()
        placeholder = spec.placeholder_name()
        url = spec.resolved_url({placeholder: self.config(placeholder)} if placeholder else {})
        secret = self.config(spec.secret)
        if not url or not secret:
            logger.error("action not configured", extra={"action": spec.name, "secret": spec.secret,
                                                         "url_setting": placeholder})
            return ActionResult(failure="not_configured")
        try:
            check_url(url)
        except ValueError:
            logger.error("action url refused", extra={"action": spec.name})
            return ActionResult(failure="not_configured")
        endpoint = url.split("?", 1)[0]
        is_open, failures = self.breaker.check(endpoint)
        if is_open:
            return ActionResult(failure="circuit_open", endpoint=endpoint)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        attempt = _Attempt(failure="network")
        attempts = 0
        for attempts in range(1, spec.retries + 2):
            headers = {**signed_headers(secret, body), "Idempotency-Key": str(payload.get("request_id") or ""),
                       "User-Agent": USER_AGENT, "Accept": "application/json"}
            attempt = self._once(url, body, headers, spec.timeout_seconds)
            if attempt.failure not in RETRYABLE or attempts > spec.retries:
                break
            self.sleep(self.backoff_seconds * attempts)
        if attempt.failure in RETRYABLE or attempt.failure == "bad_response":
            self.breaker.record_failure(endpoint)
        else:
            self.breaker.record_success(endpoint, failures)
        result = ActionResult(data=attempt.data, failure=attempt.failure, status=attempt.status, attempts=attempts,
                              elapsed_ms=int((self.clock() - started) * 1000), endpoint=endpoint)
        log = logger.info if result.ok or result.failure == "not_found" else logger.warning
        log("action called", extra={"action": spec.name, **result.meta()})
        return result

    @staticmethod
    def _once(url: str, body: bytes, headers: dict[str, str], timeout: float) -> _Attempt:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
            if status >= 500 or status == 429:
                return _Attempt(failure="server_error", status=status)
            return _Attempt(failure="not_found" if status == 404 else "client_error", status=status)
        except TimeoutError:
            return _Attempt(failure="timeout")
        except urllib.error.URLError as exc:
            timed_out = isinstance(exc.reason, TimeoutError)
            return _Attempt(failure="timeout" if timed_out else "network")
        except (ConnectionError, HTTPException, OSError):
            return _Attempt(failure="network")
        if not 200 <= status < 300 or len(raw) > MAX_RESPONSE_BYTES:
            return _Attempt(failure="bad_response", status=status)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _Attempt(failure="bad_response", status=status)
        if not isinstance(data, dict):
            return _Attempt(failure="bad_response", status=status)
        return _Attempt(data=data, status=status)
