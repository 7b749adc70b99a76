"""A local stand-in for API Gateway's WebSocket API, driving the unchanged Chalice app.

It accepts WebSocket connections, builds `$connect` / message / `$disconnect` events of the shape
API Gateway sends (route selection on the `action` field, falling back to `$default`), calls the
app's handlers, refuses the handshake when `$connect` answers non-2xx, closes frames larger than
32 KB with code 1009, and serves the management API (`POST/GET/DELETE /@connections/{id}`, with
or without the stage prefix) that the app's boto3 client posts to, answering 410 GoneException
for connections it does not know. Each frame is a separate, concurrent invocation, as in AWS.

-- clients: for tests and demos of reconnects, the management server also answers
`GET /_control/connections` (id, customer/agent subject, connected time) and `POST /_control/drop`
`{"subject": "<token sub>", "mode": "close"|"abort", "user_agent"?: "<part of it>"}`, which closes
that subject's sockets (those whose User-Agent contains `user_agent`) from the gateway side
(`close`: a close frame 1001, as API Gateway's limits do; `abort`: the TCP connection is cut without
one, like a lost network). Local stack only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from local.lambda_runtime import invoke

log = logging.getLogger("local.gateway")

MAX_FRAME_BYTES = 32 * 1024
MAX_POST_BYTES = 128 * 1024
API_ID = "localapi"
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_CONNECTION_SECONDS = 2 * 3600


def new_connection_id() -> str:
    """Ids shaped like API Gateway's (base64, so they contain `=`, `/` and `+`)."""
    return base64.b64encode(os.urandom(11)).decode()


def _http_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


@dataclass
class _Client:
    connection_id: str
    websocket: ServerConnection
    connected_at: float
    source_ip: str
    user_agent: str
    last_active: float = field(default_factory=time.time)
    subject: str | None = None  # -- clients: the token's `sub`, for the drop control (never verified here)


class WebSocketGateway:
    def __init__(self, app_module: Any, host: str = "127.0.0.1", port: int = 8001, management_port: int = 8002,
                 stage: str = "local", max_workers: int = 32, idle_timeout: float = IDLE_TIMEOUT_SECONDS) -> None:
        self._app_module = app_module
        self.host = host
        self.port = port
        self.management_port = management_port
        self.stage = stage
        self._idle_timeout = idle_timeout
        self._clients: dict[str, _Client] = {}
        self._handshakes: dict[int, tuple[str, dict[str, Any]]] = {}
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ws-lambda")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._http: ThreadingHTTPServer | None = None
        self._ready = threading.Event()
        self._routes = {route: (cfg.name, getattr(app_module, cfg.name))
                        for route, cfg in app_module.app.websocket_handlers.items()}

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.management_port}/{self.stage}"

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._http = ThreadingHTTPServer((self.host, self.management_port), _management_handler(self))
        self._http.daemon_threads = True
        self.management_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, name="ws-management", daemon=True).start()
        self._thread = threading.Thread(target=self._run, name="ws-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("WebSocket gateway did not start")

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(5)
        if self._http:
            self._http.shutdown()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._connection, self.host, self.port, process_request=self._on_handshake,
                         max_size=MAX_FRAME_BYTES, compression=None, ping_interval=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            watchdog = asyncio.create_task(self._expire_connections())
            await self._stop.wait()
            watchdog.cancel()

    # -- events of API Gateway's shape -------------------------------------------------------------

    def _request_context(self, connection_id: str, route_key: str, event_type: str, **extra: Any) -> dict[str, Any]:
        now = time.time()
        client = self._clients.get(connection_id)
        return {
            "routeKey": route_key, "eventType": event_type, "messageDirection": "IN",
            "extendedRequestId": uuid.uuid4().hex[:16] + "=", "requestId": uuid.uuid4().hex[:16] + "=",
            "requestTime": _http_date(now), "requestTimeEpoch": int(now * 1000),
            "stage": self.stage, "domainName": f"{self.host}:{self.port}", "apiId": API_ID,
            "connectionId": connection_id,
            "connectedAt": int((client.connected_at if client else now) * 1000),
            "identity": {"sourceIp": client.source_ip if client else extra.pop("source_ip", "127.0.0.1"),
                         "userAgent": client.user_agent if client else extra.pop("user_agent", "")},
            **extra,
        }

    def _invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        name, handler = self._routes[route_key]
        return invoke(handler, event, function_name=f"cs-platform-{self.stage}-{name}")

    async def _call(self, route_key: str, event: dict[str, Any]) -> Any:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._executor, self._invoke, route_key, event)

    async def _on_handshake(self, websocket: ServerConnection, request: Request) -> Response | None:
        """`$connect`: run the app's handler before accepting; a non-2xx answer refuses the upgrade."""
        connection_id = new_connection_id()
        query = {k: v[-1] for k, v in parse_qs(urlsplit(request.path).query).items()}
        multi_query = parse_qs(urlsplit(request.path).query)
        headers = {k: v for k, v in request.headers.raw_items()}
        source_ip = websocket.remote_address[0] if websocket.remote_address else "127.0.0.1"
        event = {
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None, "multiValueQueryStringParameters": multi_query or None,
            "requestContext": self._request_context(connection_id, "$connect", "CONNECT", source_ip=source_ip,
                                                    user_agent=request.headers.get("User-Agent", "")),
            "isBase64Encoded": False,
        }
        if "$connect" in self._routes:
            try:
                result = await self._call("$connect", event)
            except Exception:
                log.exception("$connect handler failed")
                return _http_response(500, {"message": "Internal server error"})
            status = int((result or {}).get("statusCode", 200))
            if not 200 <= status < 300:
                body = (result or {}).get("body") or ""
                return _http_response(status, body)
        self._handshakes[id(websocket)] = (connection_id, {"source_ip": source_ip,
                                                           "user_agent": request.headers.get("User-Agent", ""),
                                                           "subject": _token_subject(query.get("token"))})
        return None

    async def _connection(self, websocket: ServerConnection) -> None:
        connection_id, identity = self._handshakes.pop(id(websocket))
        client = _Client(connection_id, websocket, time.time(), identity["source_ip"], identity["user_agent"],
                         subject=identity["subject"])
        self._clients[connection_id] = client
        tasks: set[asyncio.Task[None]] = set()
        try:
            async for data in websocket:
                client.last_active = time.time()
                task = asyncio.create_task(self._on_frame(client, data))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except ConnectionClosed:
            pass
        finally:
            self._clients.pop(connection_id, None)
            close = websocket.close_code or 1006
            if "$disconnect" in self._routes:
                event = {
                    "headers": {}, "multiValueHeaders": {},
                    "requestContext": self._request_context(
                        connection_id, "$disconnect", "DISCONNECT", disconnectStatusCode=close,
                        disconnectReason=websocket.close_reason or ""),
                    "isBase64Encoded": False,
                }
                try:
                    await self._call("$disconnect", event)
                except Exception:
                    log.exception("$disconnect handler failed")

    async def _on_frame(self, client: _Client, data: str | bytes) -> None:
        if isinstance(data, bytes):
            try:
                body, encoded = data.decode(), False
            except UnicodeDecodeError:
                body, encoded = base64.b64encode(data).decode(), True
        else:
            body, encoded = data, False
        route_key = self._select_route(body)
        request_context = self._request_context(client.connection_id, route_key or "$default", "MESSAGE",
                                                messageId=uuid.uuid4().hex[:16] + "=")
        if route_key is None:
            await self._safe_send(client, {"message": "Forbidden", "connectionId": client.connection_id,
                                           "requestId": request_context["requestId"]})
            return
        event = {"requestContext": request_context, "body": body, "isBase64Encoded": encoded}
        try:
            await self._call(route_key, event)
        except Exception:
            log.exception("%s handler failed", route_key)
            await self._safe_send(client, {"message": "Internal server error", "connectionId": client.connection_id,
                                           "requestId": request_context["requestId"]})

    def _select_route(self, body: str) -> str | None:
        """`$request.body.action`, as Chalice configures the API; unmatched frames go to `$default`."""
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError):
            action = None
        if isinstance(action, str) and action in self._routes and not action.startswith("$"):
            return action
        return "$default" if "$default" in self._routes else None

    async def _safe_send(self, client: _Client, payload: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await client.websocket.send(json.dumps(payload))

    async def _expire_connections(self) -> None:
        """API Gateway closes idle connections after 10 minutes and all after 2 hours."""
        while True:
            await asyncio.sleep(min(30.0, self._idle_timeout / 2))
            now = time.time()
            for client in list(self._clients.values()):
                if now - client.last_active > self._idle_timeout or now - client.connected_at > MAX_CONNECTION_SECONDS:
                    await client.websocket.close(1001, "Going away")

    # -- management API (called from HTTP threads) -------------------------------------------------

    def post_to_connection(self, connection_id: str, data: bytes) -> bool:
        client = self._clients.get(connection_id)
        if client is None or self._loop is None:
            return False
        try:
            text: str | bytes = data.decode()
        except UnicodeDecodeError:
            text = data
        future = asyncio.run_coroutine_threadsafe(client.websocket.send(text), self._loop)
        try:
            future.result(timeout=5)
        except (ConnectionClosed, TimeoutError):
            return False
        return True

    def connection_info(self, connection_id: str) -> dict[str, Any] | None:
        client = self._clients.get(connection_id)
        if client is None:
            return None
        iso = lambda t: datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")  # noqa: E731
        return {"ConnectedAt": iso(client.connected_at), "LastActiveAt": iso(client.last_active),
                "Identity": {"SourceIp": client.source_ip, "UserAgent": client.user_agent}}

    def close_connection(self, connection_id: str) -> bool:
        client = self._clients.get(connection_id)
        if client is None or self._loop is None:
            return False
        asyncio.run_coroutine_threadsafe(client.websocket.close(1000, "Closed by API"), self._loop)
        return True


    # -- clients: drop connections from the gateway side (tests of reconnect and resync) ----------

    def connections(self) -> list[dict[str, Any]]:
        return [{"connection_id": c.connection_id, "subject": c.subject, "connected_at": c.connected_at}
                for c in list(self._clients.values())]

    def drop(self, subject: str, mode: str, user_agent: str | None = None) -> int:
        """Close (`close`: frame 1001) or cut (`abort`: no close frame) every socket of `subject`."""
        if self._loop is None:
            return 0
        clients = [c for c in list(self._clients.values())
                   if c.subject == subject and (not user_agent or user_agent in c.user_agent)]
        for client in clients:
            if mode == "abort":
                self._loop.call_soon_threadsafe(client.websocket.transport.abort)
            else:
                asyncio.run_coroutine_threadsafe(client.websocket.close(1001, "Going away"), self._loop)
        return len(clients)


def _token_subject(token: str | None) -> str | None:
    """The `sub` claim of a JWT, unverified (the app verifies tokens; this only labels sockets)."""
    try:
        payload = (token or "").split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sub"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _http_response(status: int, body: Any) -> Response:
    payload = body if isinstance(body, str) else json.dumps(body)
    reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}
    reason = reasons.get(status, "Error")
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(payload.encode())))])
    return Response(status, reason, headers, payload.encode())


def _management_handler(gateway: WebSocketGateway) -> type[BaseHTTPRequestHandler]:
    class ManagementHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

        def _connection_id(self) -> str | None:
            path = urlsplit(self.path).path
            marker = "/@connections/"
            if marker not in path:
                return None
            prefix, _, raw_id = path.partition(marker)
            if prefix not in ("", f"/{gateway.stage}"):
                return None
            return unquote(raw_id)

        def _answer(self, status: int, body: Any = None, error_type: str | None = None) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(payload)

        def _gone(self) -> None:
            self._answer(410, {"message": None}, "GoneException")

        def do_POST(self) -> None:
            connection_id = self._connection_id()
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if urlsplit(self.path).path == "/_control/drop":  # -- clients
                try:
                    body = json.loads(data or b"{}")
                    subject, mode = str(body["subject"]), body.get("mode", "close")
                    user_agent = body.get("user_agent")
                    if mode not in ("close", "abort") or not isinstance(user_agent, str | None):
                        raise ValueError(mode)
                except (ValueError, KeyError, TypeError, AttributeError):
                    self._answer(400, {"message": 'expected {"subject": "...", "mode": "close"|"abort"}'})
                    return
                self._answer(200, {"dropped": gateway.drop(subject, mode, user_agent)})
            elif connection_id is None:
                self._answer(404, {"message": "Not Found"}, "NotFoundException")
            elif len(data) > MAX_POST_BYTES:
                self._answer(413, {"message": "Payload too large"}, "PayloadTooLargeException")
            elif gateway.post_to_connection(connection_id, data):
                self._answer(200)
            else:
                self._gone()

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/_control/connections":  # -- clients
                self._answer(200, {"connections": gateway.connections()})
                return
            connection_id = self._connection_id()
            info = gateway.connection_info(connection_id) if connection_id else None
            self._answer(200, info) if info else self._gone()

        def do_DELETE(self) -> None:
            connection_id = self._connection_id()
            if connection_id and gateway.close_connection(connection_id):
                self._answer(204)
            else:
                self._gone()

    return ManagementHandler
