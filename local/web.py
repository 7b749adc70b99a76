"""The local stack's static web server (WEB_PORT, default 8080): the customer and agent pages.

What it serves, by URL prefix (the mount table, `MOUNTS`; the longest matching prefix wins):

| URL                | directory                 | what                                                   |
|--------------------|---------------------------|--------------------------------------------------------|
| `/`                | `clients/demo/`           | the demo shop page with the chat widget embedded       |
| `/widget/`         | `clients/widget/dist/`    | the widget bundle (`widget.js`, one classic script)    |
| `/sdk/`            | `clients/js/dist/`        | the SDK bundles (`sdk.js` ES module, `sdk.min.js`)     |
| `/sdk/src/`        | `clients/js/src/`         | the SDK's unbundled ES modules (and their `.d.ts`)     |
| `/console/`        | `clients/console/`        | the agent console (404 while that folder does not exist)|
| `/console/sdk/`    | `clients/js/src/`         | the SDK's ES modules the console imports (its socket)  |

Same-origin JSON for pages, so no page hard-codes a port:

- `GET /config.json` -> `{"api": "<REST base URL, no trailing slash>", "ws": "<WebSocket URL>",
  "stage": "local", "demo_token_url": "/demo/token"}`. Pages read it with `fetch("/config.json")`.
  Keys are only ever added, never renamed (the console relies on `api` and `ws`).
- `POST /demo/token` (local stack only; there is no such route in AWS) -> `{"token", "customer_id",
  "expires_at"}`: a development customer token (HS256 with the stack's CUSTOMER_TOKEN_SECRET, one hour).
  Body `{"customer_id": "demo_..."}` renews the token of a customer the page already has (ids must
  start with `demo_`, so the page cannot act as any other customer); no body makes a new one.

Rules: a file is served with its content type (UTF-8 for text) and `Cache-Control: no-cache`; a
directory answers its `index.html` (a directory URL without the trailing slash is redirected to it), a
directory without one answers 404 (never a listing); dot-files, `..` segments, encoded slashes or
backslashes, NUL bytes and anything that resolves (through symlinks too) outside the mount's directory
answer 404. Only GET and HEAD serve files.

Use: `WebServer(host, port, config={...}).start()`; `.url`, `.port` and `.stop()`. `port=0` picks a
free port.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
log = logging.getLogger("local.web")


@dataclass(frozen=True)
class Mount:
    """URL prefix (starting and ending with `/`) served from a directory."""

    prefix: str
    directory: Path


MOUNTS: tuple[Mount, ...] = (
    Mount("/", CLIENTS / "demo"),
    Mount("/widget/", CLIENTS / "widget" / "dist"),
    Mount("/sdk/", CLIENTS / "js" / "dist"),
    Mount("/sdk/src/", CLIENTS / "js" / "src"),
    Mount("/console/", CLIENTS / "console"),
    Mount("/console/sdk/", CLIENTS / "js" / "src"),  # also a symlink there, for Node and plain static servers
)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json",
    ".ts": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".ico": "image/x-icon",
    ".woff": "font/woff", ".woff2": "font/woff2", ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEMO_CUSTOMER_ID = re.compile(r"^demo_[A-Za-z0-9]{8,40}$")
DEMO_TOKEN_TTL_SECONDS = 3600


def resolve(path: str, mounts: tuple[Mount, ...] = MOUNTS) -> Path | None:
    """The file a URL path names, or None (not found, or not allowed: traversal, dot-files, ...).

    A directory resolves to its `index.html`. The caller redirects directory URLs without a slash.
    """
    mount = max((m for m in mounts if path.startswith(m.prefix) or path + "/" == m.prefix),
                key=lambda m: len(m.prefix), default=None)
    if mount is None:
        return None
    rest = path[len(mount.prefix):] if path.startswith(mount.prefix) else ""
    if "%2f" in rest.lower() or "%5c" in rest.lower():  # an encoded slash builds paths a plain URL cannot
        return None
    try:
        decoded = unquote(rest, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p]
    if any(p.startswith(".") for p in parts):  # `..`, `.git`, `.env`, ...
        return None
    root = mount.directory.resolve()
    candidate = root.joinpath(*parts)
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real != root and not real.is_relative_to(root):
        return None
    if real.is_dir():
        index = real / "index.html"
        return index if index.is_file() else None
    return real if real.is_file() else None


class WebServer:
    """The static server; `config` is what `/config.json` answers (see the module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, config: Mapping[str, Any] | None = None,
                 mounts: tuple[Mount, ...] = MOUNTS,
                 demo_token: Callable[[str], str] | None = None) -> None:
        self.host = host
        self.port = port
        self.config = dict(config or {})
        self.mounts = mounts
        self._demo_token = demo_token
        self._http: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> WebServer:
        self._http = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, name="web", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http:
            self._http.shutdown()
            self._http.server_close()

    @property
    def issues_demo_tokens(self) -> bool:
        return self._demo_token is not None

    def issue_demo_token(self, customer_id: str | None) -> dict[str, Any] | None:
        """A development token for a `demo_` customer (new if None); None when the id is not one."""
        if self._demo_token is None:
            return None
        if customer_id is None:
            customer_id = "demo_" + secrets.token_hex(8)
        if not DEMO_CUSTOMER_ID.match(customer_id):
            return None
        return {"token": self._demo_token(customer_id), "customer_id": customer_id,
                "expires_at": int(time.time()) + DEMO_TOKEN_TTL_SECONDS}


def _handler(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "cs-platform-web"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

        def _send(self, status: int, body: bytes, content_type: str, extra: Mapping[str, str] | None = None,
                  head: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _json(self, status: int, payload: Any, head: bool = False) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json", head=head)

        def _not_found(self, head: bool = False) -> None:
            self._json(404, {"code": "not_found", "message": "no such file"}, head)

        def _serve(self, head: bool) -> None:
            path = urlsplit(self.path).path
            if path == "/config.json":
                self._json(200, server.config, head)
                return
            try:
                target = resolve(path, server.mounts)
            except UnicodeDecodeError:
                target = None
            if target is None:
                self._not_found(head)
                return
            if target.name == "index.html" and not path.endswith("/") and not path.endswith("index.html"):
                query = urlsplit(self.path).query
                self._send(301, b"", "text/plain", {"Location": path + "/" + (f"?{query}" if query else "")},
                           head=True)
                return
            content_type = CONTENT_TYPES.get(target.suffix.lower(), DEFAULT_CONTENT_TYPE)
            if target.name.endswith(".d.ts"):
                content_type = "text/plain; charset=utf-8"
            self._send(200, target.read_bytes(), content_type, head=head)

        def do_GET(self) -> None:
            self._serve(head=False)

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(length, 4096)) if length else b""
            if urlsplit(self.path).path != "/demo/token":
                self._json(405, {"code": "method_not_allowed", "message": "only GET and HEAD"})
                return
            if not server.issues_demo_tokens:
                self._not_found()
                return
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                body = None
            customer_id = body.get("customer_id") if isinstance(body, dict) else ""
            if customer_id is not None and not isinstance(customer_id, str):
                customer_id = ""
            issued = server.issue_demo_token(customer_id)
            if issued is None:
                self._json(400, {"code": "invalid_customer_id",
                                 "message": "customer_id must look like demo_<8-40 letters or digits>"})
                return
            self._json(200, issued)

    return Handler


def build_bundles(say: Callable[[str], None] = print) -> bool:
    """Rebuild the SDK and widget bundles (`clients/js/scripts/build.mjs`, esbuild, about 0.1 s).

    Called when the local stack starts, so the pages always serve the current sources. Without
    esbuild (`make install` runs `npm ci`) the existing bundles are served and a hint is printed.
    """
    import shutil
    import subprocess

    sdk = CLIENTS / "js"
    node = shutil.which("node")
    if node is None or not (sdk / "node_modules" / "esbuild").is_dir():
        say("web: esbuild is not installed (run `make install`); serving the bundles already built")
        return False
    result = subprocess.run([node, str(sdk / "scripts" / "build.mjs")], cwd=sdk, capture_output=True, text=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        say(f"web: building the client bundles failed:\n{result.stderr.strip()}")
        return False
    return True
