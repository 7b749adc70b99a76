"""Standard-library HTTP execution of ``HttpCall``s, response classification and WeChat tokens.

``HttpSender.execute`` returns an ``HttpResponse`` for success and raises
``SendError`` otherwise: 429, 5xx, network errors/timeouts and platform "busy"
codes are ``retryable``; other 4xx are permanent. Platform-level errors inside
HTTP 200 are detected too (WeChat ``errcode``, Telegram ``ok: false``). Meta
rate-limit codes (returned with 400) are retryable; a LINE 409 for an already
accepted ``X-Line-Retry-Key`` counts as success. ``WeChatTokenCache`` caches the
access token in-process until shortly before ``expires_in``; ``ChannelSender``
ties it together and refreshes a WeChat token once on 40001/40014/42001.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, SendError
from .models import HttpCall, OutboundMessage
from .registry import adapter_for
from .wechat import token_url

if TYPE_CHECKING:
    from collections.abc import Callable
    from email.message import Message

    from chalicelib.safeinput import Json

    from .base import Secrets

WECHAT_RETRYABLE = frozenset({-1, 45009, 45011})
WECHAT_TOKEN_EXPIRED = frozenset({40001, 40014, 42001})
META_RATE_LIMIT = frozenset({4, 17, 32, 613, 80007, 130429, 131048, 131056})


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Json:
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None


def _retry_after(response: HttpResponse, body: object) -> float | None:
    value = response.headers.get("retry-after")
    if value and value.strip().isdigit():
        return float(value.strip())
    if isinstance(body, dict) and isinstance(body.get("parameters"), dict):
        ra = body["parameters"].get("retry_after")
        if isinstance(ra, int | float):
            return float(ra)
    return None


def classify(call: HttpCall, response: HttpResponse) -> None:
    """Raise ``SendError`` if ``response`` is a failure (HTTP or platform level)."""
    status, body = response.status, response.json()
    error: Any = body if body is not None else response.body[:2000].decode("utf-8", "replace")
    if call.channel == "line" and status == 409 and "X-Line-Retry-Key" in call.headers:
        return  # the same retry key was already accepted: the message went out
    if status == 429 or status >= 500:
        raise SendError(status, error, retryable=True, retry_after=_retry_after(response, body))
    if status >= 400:
        meta_code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
        retryable = call.channel in ("whatsapp", "messenger") and meta_code in META_RATE_LIMIT
        if call.channel == "telegram" and isinstance(body, dict) and body.get("error_code") == 429:
            retryable = True
        raise SendError(status, error, retryable=retryable, retry_after=_retry_after(response, body))
    if status < 200 or status >= 300:
        raise SendError(status, error, retryable=False)
    if call.channel == "wechat" and isinstance(body, dict):
        errcode = body.get("errcode", 0)
        if errcode not in (0, None):
            expired = errcode in WECHAT_TOKEN_EXPIRED
            raise SendError(
                status, body, retryable=expired or errcode in WECHAT_RETRYABLE, token_expired=expired
            )
    if call.channel == "telegram" and isinstance(body, dict) and body.get("ok") is False:
        code = body.get("error_code")
        retryable = code == 429 or (isinstance(code, int) and code >= 500)
        raise SendError(status, body, retryable=retryable, retry_after=_retry_after(response, body))


class HttpSender:
    """Executes ``HttpCall``s with ``urllib`` and a timeout; never retries by itself."""

    def __init__(self, timeout: float = 10.0, user_agent: str = "cs-platform-channels/1.0") -> None:
        self.timeout = timeout
        self.user_agent = user_agent

    def execute(self, call: HttpCall) -> HttpResponse:
        if not call.url.startswith(("https://", "http://")):
            raise ConfigurationError(f"refusing non-HTTP URL for {call.channel}")
        headers = {"User-Agent": self.user_agent, **call.headers}
        request = urllib.request.Request(
            call.url, data=call.encoded_body(), headers=headers, method=call.method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                response = HttpResponse(resp.status, resp.read(), _lower(resp.headers))
        except urllib.error.HTTPError as exc:
            response = HttpResponse(exc.code, exc.read() or b"", _lower(exc.headers))
        except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException, OSError) as exc:
            raise SendError(0, f"network error: {exc}", retryable=True) from exc
        classify(call, response)
        return response


def _lower(headers: Message | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers.items() if headers else [])}


class WeChatTokenCache:
    """In-process cache of WeChat access tokens, keyed by (API base, appid). Thread-safe."""

    def __init__(
        self, http: HttpSender, *, clock: Callable[[], float] = time.monotonic, margin_seconds: float = 300
    ) -> None:
        self._http = http
        self._clock = clock
        self._margin = margin_seconds
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    @staticmethod
    def _key(secrets: Secrets) -> tuple[str, str]:
        return (secrets.get("WECHAT_API_BASE", ""), secrets.get("WECHAT_APP_ID", ""))

    def get(self, secrets: Secrets, *, force_refresh: bool = False) -> str:
        key = self._key(secrets)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and not force_refresh and self._clock() < cached[1]:
                return cached[0]
            call = HttpCall(channel="wechat", method="GET", url=token_url(secrets))
            body = self._http.execute(call).json() or {}
            token, expires_in = body.get("access_token"), body.get("expires_in", 7200)
            if not isinstance(token, str) or not token:
                raise SendError(200, body, retryable=True)
            expires_in = float(expires_in) if isinstance(expires_in, int | float) else 7200.0
            self._tokens[key] = (token, self._clock() + expires_in - min(self._margin, expires_in / 2))
            return token

    def invalidate(self, secrets: Secrets) -> None:
        with self._lock:
            self._tokens.pop(self._key(secrets), None)


class ChannelSender:
    """``send(message, secrets)``: prepare, execute, and refresh a WeChat token once if it expired."""

    def __init__(self, http: HttpSender | None = None, tokens: WeChatTokenCache | None = None) -> None:
        self.http = http or HttpSender()
        self.tokens = tokens or WeChatTokenCache(self.http)

    def send(self, message: OutboundMessage, secrets: Secrets) -> list[HttpResponse]:
        """Send one (policy-checked) message; raises ``SendError`` with ``completed_calls`` set."""
        adapter = adapter_for(message.channel)
        is_wechat = message.channel == "wechat"
        token = self.tokens.get(secrets) if is_wechat else None
        calls = adapter.prepare_send(message, secrets, access_token=token)
        responses: list[HttpResponse] = []
        refreshed = False
        while len(responses) < len(calls):
            try:
                responses.append(self.http.execute(calls[len(responses)]))
            except SendError as exc:
                if is_wechat and exc.token_expired and not refreshed:
                    refreshed = True
                    token = self.tokens.get(secrets, force_refresh=True)
                    calls = adapter.prepare_send(message, secrets, access_token=token)
                    continue
                exc.completed_calls = len(responses)
                raise
        return responses
