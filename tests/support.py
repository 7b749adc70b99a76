"""Test helpers: event loading, tokens, a management API that can answer 410, handler invocation."""

from __future__ import annotations

import copy
import json
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jwt

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
sys.path.insert(0, str(ROOT))

CUSTOMER_SECRET = "test-customer-token-secret-0123456789"
AGENT_SECRET = "test-agent-token-secret-0123456789abc"


def load_event(relative: str) -> dict[str, Any]:
    """A checked-in sample event (deep-copied, so tests may edit it)."""
    return copy.deepcopy(json.loads((EVENTS / relative).read_text()))


def customer_token(sub: str, *, ttl: int = 3600, secret: str = CUSTOMER_SECRET, **claims: Any) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + ttl, **claims}, secret, algorithm="HS256")


def agent_token(sub: str, role: str = "agent", *, ttl: int = 3600, secret: str = AGENT_SECRET) -> str:
    return jwt.encode({"sub": sub, "role": role, "exp": int(time.time()) + ttl}, secret, algorithm="HS256")


class ManagementApi:
    """API Gateway's management API on loopback: records frames, answers 410 for gone connections."""

    def __init__(self) -> None:
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.requests = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                api.requests += 1
                connection_id = unquote(self.path.split("/@connections/", 1)[1])
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if connection_id in api.gone:
                    body = b'{"message":null}'
                    self.send_response(410)
                    self.send_header("x-amzn-ErrorType", "GoneException")
                else:
                    api.frames[connection_id].append(json.loads(data))
                    body = b""
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/dev"

    def of_type(self, connection_id: str, frame_type: str) -> list[dict[str, Any]]:
        return [f for f in self.frames[connection_id] if f.get("type") == frame_type]

    def close(self) -> None:
        self._server.shutdown()


class EffectsQueue:
    """`process_effects`'s event source mapping for in-process tests: after each invocation the test
    makes, the effects queue is drained into the handler the way Lambda's SQS poller would, FIFO
    groups and ReportBatchItemFailures honoured (a failed record is made visible again at once:
    "the visibility timeout has passed"), so a test sees a message's effects when its call returns."""

    MAX_ROUNDS = 60

    def __init__(self, app_module: Any) -> None:
        self.app = app_module
        self.batches: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        from chalicelib import services as composition
        from local.pollers import sqs_record

        root = composition.services()
        sqs, url = root.sqs, root.queue_url(root.settings.effects_queue_name)
        results = []
        for _ in range(self.MAX_ROUNDS):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                return results
            event = {"Records": [sqs_record(m, f"arn:aws:sqs:us-east-1:123456789012:{url.rsplit('/', 1)[-1]}",
                                            "us-east-1") for m in messages]}
            self.batches.append(event)
            result = self.app.process_effects(event, None)
            results.append(result)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] in failed:
                    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
                else:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError("the effects queue did not drain")


class Lambda:
    """Invoke the app's WebSocket handlers with events/ samples, as API Gateway would; then the
    effects queue's consumer, as the event source mapping would (`EffectsQueue`)."""

    def __init__(self, app_module: Any, drain_effects: bool = True) -> None:
        self.app = app_module
        self.effects = EffectsQueue(app_module)
        self._drain = drain_effects

    def _then_effects(self, answer: Any) -> Any:
        if self._drain:
            self.effects.drain()
        return answer

    def connect(self, connection_id: str, token: str | None, **query: str) -> dict[str, Any]:
        event = load_event("websocket/connect.json")
        event["requestContext"]["connectionId"] = connection_id
        params = {**({"token": token} if token is not None else {}), **query}
        event["queryStringParameters"] = params or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()} or None
        return self._then_effects(self.app.ws_connect(event, None))

    def send(self, connection_id: str, body: Any) -> Any:
        event = load_event("websocket/message.json")
        event["requestContext"]["connectionId"] = connection_id
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        return self._then_effects(self.app.ws_message(event, None))

    def disconnect(self, connection_id: str) -> Any:
        event = load_event("websocket/disconnect.json")
        event["requestContext"]["connectionId"] = connection_id
        return self._then_effects(self.app.ws_disconnect(event, None))


def fail_once(client: Any, operation: str, code: str = "ThrottlingException", when: Any = None) -> dict[str, int]:
    """The first call of `operation` on the boto3 `client` (whose parameters match `when`) fails as AWS
    would fail it: a fault injected where the service would produce it. Returns the failure count."""
    from botocore.exceptions import ClientError

    calls = {"failed": 0}

    def hook(params: dict[str, Any], **_: Any) -> None:
        if calls["failed"] == 0 and (when is None or when(params)):
            calls["failed"] += 1
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, operation)

    service = client.meta.service_model.service_name
    client.meta.events.register(f"before-parameter-build.{service}.{operation}", hook)
    return calls


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STACK_PORTS = ("HTTP_PORT", "WS_PORT", "WS_MANAGEMENT_PORT", "MOTO_PORT", "FAKE_PLATFORMS_PORT", "CLOCK_PORT",
               "WEB_PORT", "SHOP_API_PORT")


def run_local_stack(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    """`python -m local.devserver` (what `make dev` runs) on free ports, until it prints `ready`.

    A generator for fixtures: yields (ports, output lines) and stops the stack afterwards.
    """
    import os
    import queue
    import subprocess
    import sys

    import pytest

    ports = {name: str(free_port()) for name in STACK_PORTS}
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    child_env.update(ports, PYTHONUNBUFFERED="1", **(env or {}))
    process = subprocess.Popen([sys.executable, "-m", "local.devserver", *args], cwd=ROOT, env=child_env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            process.kill()
            pytest.fail(f"local stack did not print 'ready' within {timeout:.0f} s:\n" + "".join(output))
        if "ready" in line:
            break
        if process.poll() is not None:
            pytest.fail("local stack exited:\n" + "".join(output))
    try:
        yield ports, output
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
