"""A fault-injecting HTTP proxy in front of the moto server: AWS as a flaky network would have it.

Point boto3 at the proxy (`AWS_ENDPOINT_URL`) instead of moto. Each request is named by its service
(from the SigV4 credential scope) and operation (`X-Amz-Target` for the JSON protocols of DynamoDB,
Kinesis and SQS; method and path for S3), and a rule matching it may fail it at its rate with one of:

- `throttle`: answered 400 `ThrottlingException` (DynamoDB `ProvisionedThroughputExceededException`,
  S3 503 `SlowDown`), never forwarded: botocore retries it;
- `5xx`: answered 500 `InternalServerError` (S3: XML), never forwarded;
- `reset`: the connection is reset before the request is forwarded (nothing happened);
- `timeout`: held for `timeout_s` without an answer, then the connection is reset (nothing happened;
  hold it longer than the client's read timeout to make botocore time out);
- `lost_reply`: **forwarded** (moto applied it), then the connection is reset instead of answering:
  the write happened and the client does not know, so botocore sends it again.

DynamoDB answers a retried `TransactWriteItems` carrying the same `ClientRequestToken` (botocore sets one per
call, kept across its retries) with success, without applying it again; moto does not, so the proxy does:
a retry after a `lost_reply` gets the answer the first attempt got, as it would from DynamoDB.

`pause(service, seconds)` holds every request of a service until the pause ends (then forwards them):
"DynamoDB is unavailable for 13 s". Rules, pauses and counters are set in-process (`FaultProxy`) or
over HTTP on the proxy itself: `POST /__faults__` `{"rules": [...], "seed": 7}`, `POST /__faults__/pause`
`{"service": "dynamodb", "seconds": 13}`, `GET /__faults__` (the counters).

    python -m local.fault_proxy --target http://127.0.0.1:4566 --port 4567 \\
        --rule dynamodb:PutItem:0.1:throttle,lost_reply --rule kinesis:*:0.1:5xx
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

KINDS = ("throttle", "5xx", "reset", "timeout", "lost_reply")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


@dataclass
class Rule:
    """Fail `rate` of the requests of `service` (or `*`) and `operation` (or `*`) with one of `kinds`."""

    service: str = "*"
    operation: str = "*"
    rate: float = 0.1
    kinds: tuple[str, ...] = ("throttle", "5xx", "reset")
    timeout_s: float = 11.0
    limit: int | None = None  # at most this many faults from this rule (e.g. fail a step exactly once)
    fired: int = 0

    def matches(self, service: str, operation: str) -> bool:
        return self.service in ("*", service) and self.operation in ("*", operation)

    @classmethod
    def parse(cls, text: str) -> Rule:
        """`service:operation:rate:kind,kind` (the CLI's --rule)."""
        service, operation, rate, kinds = text.split(":")
        return cls(service, operation, float(rate), tuple(kinds.split(",")))


@dataclass
class FaultState:
    rules: list[Rule] = field(default_factory=list)
    # TransactWriteItems answers by ClientRequestToken (DynamoDB's idempotent transactions, which moto lacks)
    transactions: dict[str, tuple[int, list[tuple[str, str]], bytes]] = field(default_factory=dict)
    paused_until: dict[str, float] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def decide(self, service: str, operation: str) -> tuple[str, Rule] | None:
        with self.lock:
            self.requests[f"{service}.{operation}"] += 1
            for rule in self.rules:
                if not rule.matches(service, operation) or (rule.limit is not None and rule.fired >= rule.limit):
                    continue
                if self.rng.random() < rule.rate:
                    rule.fired += 1
                    kind = self.rng.choice(rule.kinds)
                    self.faults[f"{service}.{operation}:{kind}"] += 1
                    return kind, rule
            return None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": dict(self.requests), "faults": dict(self.faults),
                    "faults_total": sum(self.faults.values()), "requests_total": sum(self.requests.values())}


def name_request(headers: Any, method: str, path: str) -> tuple[str, str]:
    """(service, operation) of an AWS request as botocore sends it."""
    match = _SCOPE.search(headers.get("Authorization", ""))
    service = match.group(1) if match else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    if service == "s3":
        parts = [p for p in urlsplit(path).path.split("/") if p]
        what = "Object" if len(parts) > 1 else "Bucket"
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}.get(method, method)
        return service, f"{verb}{what}"
    return service, method


def _transaction_token(service: str, operation: str, body: bytes) -> str | None:
    if service != "dynamodb" or operation != "TransactWriteItems":
        return None
    try:
        token = json.loads(body).get("ClientRequestToken")
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) else None


def _error_body(service: str, kind: str) -> tuple[int, str, bytes]:
    if service == "s3":
        code, status = ("SlowDown", 503) if kind == "throttle" else ("InternalError", 500)
        body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>injected</Message></Error>"
        return status, "application/xml", body.encode()
    if kind == "throttle":
        code = "ProvisionedThroughputExceededException" if service in ("dynamodb", "kinesis") else "ThrottlingException"
        prefix = "com.amazonaws.dynamodb.v20120810#" if service == "dynamodb" else ""
        return 400, "application/x-amz-json-1.0", json.dumps({"__type": prefix + code,
                                                              "message": "injected throttling"}).encode()
    return 500, "application/x-amz-json-1.0", json.dumps({"__type": "InternalServerError",
                                                          "message": "injected server error"}).encode()


class FaultProxy:
    """The proxy server, run in a thread (tests, benches) or as a process (`python -m local.fault_proxy`)."""

    def __init__(self, target: str, host: str = "127.0.0.1", port: int = 0, seed: int | None = None) -> None:
        self.target = urlsplit(target)
        self.state = FaultState(rng=random.Random(seed))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _answer(self, status: int, content_type: str, body: bytes,
                        headers: list[tuple[str, str]] = ()) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                if not any(n.lower() == "content-type" for n, _ in headers):
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _reset(self) -> None:
                # SO_LINGER 0: close with RST, as a dropped connection looks to the client
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

            def _control(self, body: bytes) -> bool:
                if not self.path.startswith("/__faults__"):
                    return False
                if self.command == "POST" and self.path.rstrip("/") == "/__faults__":
                    config = json.loads(body or b"{}")
                    proxy.configure([Rule(**{**r, "kinds": tuple(r.get("kinds", Rule.kinds))})
                                     for r in config.get("rules", [])], seed=config.get("seed"))
                elif self.command == "POST" and self.path.rstrip("/") == "/__faults__/pause":
                    config = json.loads(body or b"{}")
                    proxy.pause(config["service"], float(config["seconds"]))
                self._answer(200, "application/json", json.dumps(proxy.state.snapshot()).encode())
                return True

            def _handle(self) -> None:
                body = self._body()
                if self._control(body):
                    return
                service, operation = name_request(self.headers, self.command, self.path)
                proxy.wait_if_paused(service)
                decision = proxy.state.decide(service, operation)
                kind = decision[0] if decision else None
                if kind in ("throttle", "5xx"):
                    self._answer(*_error_body(service, kind))
                    return
                if kind == "reset":
                    self._reset()
                    return
                if kind == "timeout":
                    time.sleep(decision[1].timeout_s)  # holding the request is the fault being injected
                    self._reset()
                    return
                token = _transaction_token(service, operation, body)
                with proxy.state.lock:
                    remembered = proxy.state.transactions.get(token) if token else None
                if remembered is not None:  # DynamoDB: the same token again is answered, not applied again
                    status, headers, answer = remembered
                else:
                    status, headers, answer = proxy.forward(self.command, self.path, self.headers, body)
                    if token and status == 200:
                        with proxy.state.lock:
                            proxy.state.transactions[token] = (status, headers, answer)
                if kind == "lost_reply":
                    self._reset()
                    return
                try:
                    self._answer(status, "application/octet-stream", answer, headers)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its read timeout)
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._local = threading.local()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def configure(self, rules: list[Rule], seed: int | None = None) -> None:
        with self.state.lock:
            self.state.rules = list(rules)
            if seed is not None:
                self.state.rng.seed(seed)

    def clear(self) -> None:
        self.configure([])
        with self.state.lock:
            self.state.paused_until.clear()

    def reset_counters(self) -> None:
        with self.state.lock:
            self.state.requests.clear()
            self.state.faults.clear()

    def pause(self, service: str, seconds: float) -> None:
        with self.state.lock:
            self.state.paused_until[service] = time.monotonic() + seconds

    def wait_if_paused(self, service: str) -> None:
        while True:
            with self.state.lock:
                left = self.state.paused_until.get(service, 0) - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))  # the pause is the fault: requests wait it out

    def forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = getattr(self._local, "connection", None)
        for attempt in (1, 2):
            if connection is None:
                connection = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=120)
                self._local.connection = connection
            try:
                connection.request(method, path, body=body,
                                   headers={k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP})
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (ConnectionError, http.client.HTTPException):  # a stale keep-alive connection to moto
                connection.close()
                connection = self._local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, help="the moto server, e.g. http://127.0.0.1:4566")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4567)
    parser.add_argument("--rule", action="append", default=[], help="service:operation:rate:kind[,kind]")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    proxy = FaultProxy(args.target, args.host, args.port, seed=args.seed)
    proxy.configure([Rule.parse(r) for r in args.rule])
    print(f"fault proxy on {proxy.url} -> {args.target}", flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
