"""`make dev`: the whole platform on this machine, no AWS account and no Docker.

1. moto in server mode (a child process) on loopback stands in for DynamoDB, SQS, Kinesis and S3;
2. the resources are created from `infra/resources.yaml` through moto's CloudFormation API;
3. the unchanged Chalice app serves REST on HTTP_PORT (Chalice's local server) and WebSocket on
   WS_PORT (our API Gateway emulation, `local/gateway.py`), with the management API beside it;
4. pollers feed SQS and Kinesis records and scheduled events to the app's handlers.

Prints a line containing `ready` and the URLs once everything accepts connections.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
STAGE = "local"

# Development-only secrets, used unless the environment already sets them. Never use in AWS.
DEV_SECRETS = {
    "CUSTOMER_TOKEN_SECRET": "local-dev-customer-token-secret-0001",
    "AGENT_TOKEN_SECRET": "local-dev-agent-token-secret-00000001",
    "PSEUDONYM_KEY": "local-dev-pseudonym-key-000000000001",
}

log = logging.getLogger("local.devserver")


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(host: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """moto's server in its own process, so the app and the fake AWS use both cores."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "local.moto_server", "--host", host, "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited; see {log_path}")
        try:
            with urlopen(f"http://{host}:{port}/moto-api/", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("moto server did not start within 30 s")


def configure_environment(moto_url: str, management_url: str) -> None:
    """What Lambda would have: the stage's variables from .chalice/config.json, plus local wiring."""
    sys.path.insert(0, str(ROOT))
    from infra.provision import lambda_environment

    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL": moto_url,
        "WEBSOCKET_MANAGEMENT_ENDPOINT": management_url,
    })
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"]
    os.environ.update(lambda_environment(STAGE, ROOT))
    for name, value in DEV_SECRETS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


class LocalStack:
    def __init__(self, host: str, http_port: int, ws_port: int, management_port: int, moto_port: int) -> None:
        self.host = host
        self.http_port = http_port
        self.ws_port = ws_port
        self.management_port = management_port
        self.moto_port = moto_port
        self._moto: subprocess.Popen[bytes] | None = None
        self._closers: list[Any] = []

    def start(self) -> dict[str, str]:
        import boto3

        self._moto = start_moto(self.host, self.moto_port, ROOT / ".local-data" / "moto.log")
        moto_url = f"http://{self.host}:{self.moto_port}"
        # The gateway's management API port must be known before the app reads its settings.
        management_port = self.management_port or free_port()
        configure_environment(moto_url, f"http://{self.host}:{management_port}/{STAGE}")

        from infra.provision import provision

        session = boto3.session.Session(region_name=os.environ["AWS_DEFAULT_REGION"])
        outputs = provision(session, STAGE)

        app_module = importlib.import_module("app")
        from chalicelib import wiring

        wiring.reset()

        from local.gateway import WebSocketGateway
        from local.pollers import Pollers

        gateway = WebSocketGateway(app_module, self.host, self.ws_port, management_port, stage=STAGE)
        gateway.start()
        self._closers.append(gateway.stop)

        rest = self._start_rest(app_module.app)
        pollers = Pollers(app_module, session, STAGE)
        sources = pollers.start()
        self._closers.append(pollers.stop)
        return {
            "http": f"http://{self.host}:{rest}", "ws": gateway.url, "management": gateway.management_url,
            "aws": moto_url, "table": outputs["TableName"], "pollers": ", ".join(sources) or "none",
        }

    def _start_rest(self, app: Any) -> int:
        from chalice.config import Config
        from chalice.local import create_local_server

        config = Config.create(chalice_stage=STAGE, app_name="cs-platform", project_dir=str(ROOT),
                               config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))
        server = create_local_server(app, config, self.host, self.http_port)
        port = server.server.server_address[1]
        threading.Thread(target=server.server.serve_forever, name="rest", daemon=True).start()
        self._closers.append(server.server.shutdown)
        return port

    def stop(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                log.exception("error while stopping")
        if self._moto and self._moto.poll() is None:
            self._moto.terminate()
            try:
                self._moto.wait(5)
            except subprocess.TimeoutExpired:
                self._moto.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ws_port = _port("WS_PORT", 8001)
    stack = LocalStack(
        host=args.host, http_port=_port("HTTP_PORT", 8000), ws_port=ws_port,
        management_port=_port("WS_MANAGEMENT_PORT", ws_port + 1 if ws_port else 0),
        moto_port=_port("MOTO_PORT", 4566) or free_port(),
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        urls = stack.start()
    except Exception as exc:
        print(f"local stack failed to start: {exc}", file=sys.stderr, flush=True)
        stack.stop()
        return 1
    print(f"ready: REST {urls['http']}  WebSocket {urls['ws']}", flush=True)
    for name in ("http", "ws", "management", "aws", "table", "pollers"):
        print(f"  {name:<11} {urls[name]}", flush=True)
    print("  customer token: python -m local.token customer alice   (Ctrl-C stops the stack)", flush=True)
    stopped.wait()
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
