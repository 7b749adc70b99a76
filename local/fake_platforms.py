"""A fake of the five platform send APIs plus the generic callback, for tests and local runs.

One threaded HTTP server answers, on any path prefix: WeChat ``/cgi-bin/token`` and
``/cgi-bin/message/custom/send`` (token-checked: tokens can be expired on demand →
``errcode 40001``), WhatsApp ``/{phone_number_id}/messages``, Messenger ``/me/messages``,
Telegram ``/bot<token>/<method>``, LINE ``/v2/bot/message/push`` and anything else as
the generic callback (``{"ok": true}``). Every request is recorded in order and
failures can be programmed (``fail(path_contains, status, times, body)``) from Python
or over HTTP: ``POST /_control/fail``, ``GET /_control/requests``, ``POST /_control/reset``,
``POST /_control/expire_wechat_tokens``. Never shipped to Lambda.

    python -m local.fake_platforms --port 8025
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_TELEGRAM = re.compile(r"/bot[^/]+/(\w+)$")
_WHATSAPP = re.compile(r"/(\d+)/messages$")


@dataclass
class _FailRule:
    path_contains: str
    status: int
    times: int
    body: Any = None


class FakePlatforms:
    """Start with ``FakePlatforms().start()`` (or as a context manager); ``.url`` is the base URL."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._rules: list[_FailRule] = []
        self._valid_tokens: set[str] = set()
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakePlatforms:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-platforms", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakePlatforms:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def config(self) -> dict[str, str]:
        """API-base overrides pointing every adapter at this server."""
        return {
            "WECHAT_API_BASE": self.url,
            "WHATSAPP_API_BASE": f"{self.url}/v21.0",
            "MESSENGER_API_BASE": f"{self.url}/v21.0",
            "TELEGRAM_API_BASE": self.url,
            "LINE_API_BASE": self.url,
            "GENERIC_CALLBACK_URL": f"{self.url}/generic/callback",
        }

    # --- programming and inspection -----------------------------------------------------------

    def fail(self, path_contains: str, status: int, times: int = 1, body: Any = None) -> None:
        """Answer the next ``times`` requests whose path contains ``path_contains`` with ``status``."""
        with self._lock:
            self._rules.append(_FailRule(path_contains, int(status), int(times), body))

    def expire_wechat_tokens(self) -> None:
        with self._lock:
            self._valid_tokens.clear()

    def requests(self, path_contains: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests if path_contains is None or path_contains in r["path"]]

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._rules.clear()
            self._valid_tokens.clear()

    # --- request handling (called from server threads) ----------------------------------------

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def _take_rule(self, path: str) -> _FailRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.path_contains in path and rule.times > 0:
                    rule.times -= 1
                    return rule
            return None

    def respond(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        rule = self._take_rule(path)
        if rule is not None:
            return rule.status, rule.body if rule.body is not None else _error_body(path, rule.status)
        n = next(self._counter)
        if path.endswith("/cgi-bin/token"):
            token = f"FAKE_WECHAT_TOKEN_{n}"
            with self._lock:
                self._valid_tokens.add(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if "/cgi-bin/message/" in path:
            with self._lock:
                valid = query.get("access_token") in self._valid_tokens
            if not valid:
                return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": n}
        if _TELEGRAM.search(path):
            chat_id = body.get("chat_id") if isinstance(body, dict) else None
            return 200, {"ok": True, "result": {"message_id": n, "chat": {"id": chat_id}, "date": 1700000000}}
        if path.endswith("/v2/bot/message/push") or path.endswith("/v2/bot/message/reply"):
            return 200, {"sentMessages": [{"id": str(4000000000 + n), "quoteToken": f"q{n}"}]}
        if path.endswith("/me/messages"):
            recipient = (body or {}).get("recipient", {}).get("id") if isinstance(body, dict) else None
            return 200, {"recipient_id": recipient, "message_id": f"m_FAKE{n}"}
        if _WHATSAPP.search(path):
            to = body.get("to") if isinstance(body, dict) else None
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.FAKE{n}"}],
            }
        return 200, {"ok": True, "id": n}


def _error_body(path: str, status: int) -> Any:
    if _TELEGRAM.search(path):
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"Error {status}"}
        if status == 429:
            body["description"] = "Too Many Requests: retry after 1"
            body["parameters"] = {"retry_after": 1}
        return body
    if path.endswith("/me/messages") or _WHATSAPP.search(path):
        code = 4 if status == 429 else (2 if status >= 500 else 100)
        return {
            "error": {
                "message": f"fake error {status}",
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": "FAKE",
            }
        }
    if "/cgi-bin/" in path:
        return {"errcode": -1, "errmsg": "system error"}
    if "/v2/bot/" in path:
        return {"message": f"fake error {status}"}
    return {"error": f"fake error {status}"}


class _Handler(BaseHTTPRequestHandler):
    fake: FakePlatforms
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        if parts.path.startswith("/_control/"):
            self._control(parts.path, body)
            return
        self.fake.record(
            {
                "method": self.command,
                "path": parts.path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "json": body,
                "body": raw.decode("utf-8", "replace"),
            }
        )
        status, payload = self.fake.respond(self.command, parts.path, query, body)
        self._send(status, payload)

    def _control(self, path: str, body: Any) -> None:
        if path == "/_control/requests" and self.command == "GET":
            self._send(200, self.fake.requests())
        elif path == "/_control/reset" and self.command == "POST":
            self.fake.reset()
            self._send(200, {"ok": True})
        elif path == "/_control/expire_wechat_tokens" and self.command == "POST":
            self.fake.expire_wechat_tokens()
            self._send(200, {"ok": True})
        elif path == "/_control/fail" and self.command == "POST" and isinstance(body, dict):
            try:
                self.fake.fail(
                    str(body["path_contains"]),
                    int(body["status"]),
                    int(body.get("times", 1)),
                    body.get("body"),
                )
            except (KeyError, TypeError, ValueError):
                self._send(400, {"error": "need path_contains, status[, times, body]"})
                return
            self._send(200, {"ok": True})
        else:
            self._send(404, {"error": "unknown control endpoint"})

    do_GET = _handle
    do_POST = _handle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    fake = FakePlatforms(args.host, args.port).start()
    print(f"fake platforms listening on {fake.url}", flush=True)
    for key, value in fake.config().items():
        print(f"  {key}={value}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
