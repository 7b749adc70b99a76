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
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
# -- bot: single-threaded BLAS before numpy loads, as in Lambda (.chalice/config.json)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
STAGE = "local"

# Development-only secrets, used unless the environment already sets them. Never use in AWS.
DEV_SECRETS = {
    "CUSTOMER_TOKEN_SECRET": "local-dev-customer-token-secret-0001",
    "AGENT_TOKEN_SECRET": "local-dev-agent-token-secret-00000001",
    "PSEUDONYM_KEY": "local-dev-pseudonym-key-000000000001",
    # -- channels: the platforms' webhook secrets and API tokens (the fake platforms accept any) --
    "WECHAT_TOKEN": "local_wechat_token",
    "WECHAT_APP_ID": "wxLOCAL000000001",
    "WECHAT_APP_SECRET": "local_wechat_app_secret",
    "WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "WHATSAPP_APP_SECRET": "local_whatsapp_app_secret",
    "WHATSAPP_VERIFY_TOKEN": "local_wa_verify",
    "WHATSAPP_ACCESS_TOKEN": "LOCAL_WA_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "MESSENGER_APP_SECRET": "local_messenger_app_secret",
    "MESSENGER_VERIFY_TOKEN": "local_ms_verify",
    "MESSENGER_PAGE_TOKEN": "LOCAL_PAGE_TOKEN",
    "TELEGRAM_SECRET_TOKEN": "local-telegram-secret",
    "TELEGRAM_BOT_TOKEN": "123456:LOCAL-bot-token",
    "LINE_CHANNEL_SECRET": "local_line_channel_secret",
    "LINE_CHANNEL_TOKEN": "LOCAL_LINE_CHANNEL_TOKEN",
    "GENERIC_WEBHOOK_SECRET": "local_generic_secret",
    # -- issue 14: the key the bot's actions sign their calls to the local shop API with (local/shop_api.py)
    "SHOP_API_SECRET": "local-dev-shop-api-secret-000001",
}

log = logging.getLogger("local.devserver")


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def taken_ports(host: str, ports: dict[str, int]) -> dict[str, int]:
    """The configured ports (name -> number) that something else already listens on."""
    taken = {}
    for name, port in ports.items():
        if not port:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                taken[name] = port
    return taken


def start_moto(host: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """moto's server in its own process, so the app and the fake AWS use both cores."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "local.moto_server", "--host", host, "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    # moto imports every service's backend at start-up: a few seconds idle, well over 30 s on a busy
    # two-core machine (a 30 s limit failed tests there), so the deadline is generous (issue 13).
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited; see {log_path}")
        try:
            with urlopen(f"http://{host}:{port}/moto-api/", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("moto server did not start within 180 s")


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
    def __init__(self, host: str, http_port: int, ws_port: int, management_port: int, moto_port: int,
                 fake_platforms_port: int = 8025, web_port: int = 8080) -> None:
        self.host = host
        self.web_port = web_port
        self.fake_platforms_port = fake_platforms_port
        self.http_port = http_port
        self.ws_port = ws_port
        self.management_port = management_port
        self.moto_port = moto_port
        self._moto: subprocess.Popen[bytes] | None = None
        self._closers: list[Any] = []
        self.desk: list[Any] = []  # -- issue 11: the seeded desk members (local/desk_seed.py)
        self.pool: Any = None

    def start(self) -> dict[str, str]:
        import boto3

        self._moto = start_moto(self.host, self.moto_port, ROOT / ".local-data" / "moto.log")
        moto_url = f"http://{self.host}:{self.moto_port}"
        # The gateway's management API port must be known before the app reads its settings.
        management_port = self.management_port or free_port()
        configure_environment(moto_url, f"http://{self.host}:{management_port}/{STAGE}")
        fake_platforms = self._start_fake_platforms()
        shop_api = self._start_shop_api()  # -- issue 14

        from infra.provision import provision

        session = boto3.session.Session(region_name=os.environ["AWS_DEFAULT_REGION"])
        outputs = provision(session, STAGE)
        # -- issue 11: the agents' Cognito pool (local/desk_seed.py), configured before the app reads it --
        from local.desk_seed import configure_pool

        pool = configure_pool(session, moto_url, STAGE)
        if "WEB_PORT" not in os.environ and taken_ports(self.host, {"WEB_PORT": self.web_port}):
            self.web_port = free_port()  # the default is taken (another stack): CORS must name the real origin
        os.environ.setdefault("CONSOLE_ORIGIN", f"http://{self.host}:{self.web_port}")

        app_module = importlib.import_module("app")
        from chalicelib import services as composition

        composition.reset()

        from local.gateway import WebSocketGateway
        from local.pollers import Pollers

        gateway = WebSocketGateway(app_module, self.host, self.ws_port, management_port, stage=STAGE)
        gateway.start()
        self._closers.append(gateway.stop)

        rest = self.start_rest(app_module.app)
        pollers = Pollers(app_module, session, STAGE, timeout_for=self._function_timeout)
        sources = pollers.start()
        self._closers.append(pollers.stop)
        # -- bot: import the sample knowledge base; its model trains in the background (local/bot_seed.py) --
        from local.bot_seed import seed

        seed(lambda line: print(line, flush=True))
        # -- issue 11: one admin, one supervisor and two agents who can sign in to the console --
        from local.desk_seed import seed_desk

        self.desk = seed_desk(session, pool)
        self.pool = pool
        web = self._start_web(f"http://{self.host}:{rest}", gateway.url)
        return {
            "http": f"http://{self.host}:{rest}", "ws": gateway.url, "management": gateway.management_url,
            "aws": moto_url, "table": outputs["TableName"], "pollers": ", ".join(sources) or "none",
            "platforms": fake_platforms, "shop": shop_api, "web": web, "bucket": outputs["AnalyticsBucketName"],
        }

    def _start_web(self, rest_url: str, ws_url: str) -> str:
        """-- clients: the demo shop page with the widget, the SDK bundles, the console (local/web.py)."""
        from local.token import mint
        from local.web import WebServer, build_bundles

        build_bundles(lambda line: print(line, flush=True))
        config = {"api": rest_url, "ws": ws_url, "stage": STAGE, "demo_token_url": "/demo/token"}
        if self.pool is not None:  # -- issue 11: the console signs in against the local Cognito pool --
            config["cognito"] = {"region": self.pool.region, "user_pool_id": self.pool.user_pool_id,
                                 "client_id": self.pool.client_id,
                                 "endpoint": os.environ["AWS_ENDPOINT_URL"]}

        def demo_token(customer_id: str) -> str:
            return mint("customer", customer_id, name="Demo shopper")

        try:
            web = WebServer(self.host, self.web_port, config, demo_token=demo_token).start()
        except OSError:
            if "WEB_PORT" in os.environ:
                raise
            # the default port is taken (another local stack): any free port will do, it is printed
            web = WebServer(self.host, 0, config, demo_token=demo_token).start()
        self._closers.append(web.stop)
        # the pages call REST from another port: their origin may (CORS, chalicelib/clients/cors.py)
        os.environ.setdefault("CORS_ALLOWED_ORIGINS", f"{web.url},http://localhost:{web.port}")
        return web.url + "/"

    def _start_fake_platforms(self) -> str:
        """-- channels: the platforms' send APIs (local/fake_platforms.py); the adapters are pointed at it."""
        from local.fake_platforms import FakePlatforms

        try:
            fake = FakePlatforms(self.host, self.fake_platforms_port).start()
        except OSError:
            if "FAKE_PLATFORMS_PORT" in os.environ:
                raise
            # the default port is taken (another local stack): any free port will do, it is printed
            fake = FakePlatforms(self.host, 0).start()
        self._closers.append(fake.stop)
        for name, value in fake.config().items():
            os.environ.setdefault(name, value)
        return fake.url

    def _start_shop_api(self) -> str:
        """-- issue 14: the shop API the sample KB's order, logistics and refund actions call (local/shop_api.py)."""
        from local.shop_api import ShopApi

        port = _port("SHOP_API_PORT", 8026)
        try:
            shop = ShopApi(os.environ["SHOP_API_SECRET"], self.host, port).start()
        except OSError:
            if "SHOP_API_PORT" in os.environ:
                raise
            shop = ShopApi(os.environ["SHOP_API_SECRET"], self.host, 0).start()  # the default is taken
        self._closers.append(shop.stop)
        os.environ.setdefault("SHOP_API_URL", shop.url)
        return shop.url

    def start_rest(self, app: Any) -> int:
        from chalice.config import Config

        from local.access_log import create_rest_server  # issue 13: no query values in the access log

        config = Config.create(chalice_stage=STAGE, app_name="cs-platform", project_dir=str(ROOT),
                               config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))
        server = create_rest_server(app, config, self.host, self.http_port)
        port = server.server.server_address[1]
        threading.Thread(target=server.server.serve_forever, name="rest", daemon=True).start()
        self._closers.append(server.server.shutdown)
        return port

    @staticmethod
    def _function_timeout(function_name: str) -> int:
        """The function's `lambda_timeout` for the local stage, as `.chalice/config.json` sets it."""
        from chalice.config import Config

        config = Config(chalice_stage=STAGE,
                        config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))
        return int(config.scope(STAGE, function_name).lambda_timeout or 60)

    def on_stop(self, close: Callable[[], object]) -> None:
        """Stop `close`'s server with the rest of the stack (in reverse order of start)."""
        self._closers.append(close)

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
    # -- analytics: simulated time for local/simulator.py (control endpoint on CLOCK_PORT) --
    parser.add_argument("--simulated-clock", action="store_true",
                        help="the app reads a clock controlled over http://HOST:CLOCK_PORT/clock (local/clock.py)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ws_port = _port("WS_PORT", 8001)
    stack = LocalStack(
        host=args.host, http_port=_port("HTTP_PORT", 8000), ws_port=ws_port,
        management_port=_port("WS_MANAGEMENT_PORT", ws_port + 1 if ws_port else 0),
        moto_port=_port("MOTO_PORT", 4566) or free_port(),
        fake_platforms_port=_port("FAKE_PLATFORMS_PORT", 8025),
        web_port=_port("WEB_PORT", 8080),
    )
    taken = taken_ports(args.host, {"HTTP_PORT": stack.http_port, "WS_PORT": stack.ws_port,
                                    "WS_MANAGEMENT_PORT": stack.management_port, "MOTO_PORT": stack.moto_port})
    if taken:  # -- issue 11: say which port, and how to choose another --
        for name, port in taken.items():
            print(f"local stack cannot start: port {port} ({name}) is taken - another `make dev`? "
                  f"Stop it, or choose another port: {name}=<port> make dev", file=sys.stderr, flush=True)
        return 1
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        urls = stack.start()
    except Exception as exc:
        print(f"local stack failed to start: {exc}", file=sys.stderr, flush=True)
        stack.stop()
        return 1
    if args.simulated_clock:  # -- analytics --
        from local.clock import start_simulated_clock

        clock_port = _port("CLOCK_PORT", ws_port + 2 if ws_port else 0)
        urls["clock"], clock_server = start_simulated_clock(args.host, clock_port)
        stack.on_stop(clock_server.shutdown)
        print(f"  clock       {urls['clock']}/clock (simulated)", flush=True)
    # -- issue 11: the CLI (chalicelib/cli/local_stack.py) finds this stack through .local-data/stack.json --
    from chalicelib.cli.local_stack import remove_stack, write_stack

    write_stack({"aws": urls["aws"], "region": os.environ["AWS_DEFAULT_REGION"], "bucket": urls["bucket"],
                 "http": urls["http"], "ws": urls["ws"], "web": urls["web"], "pid": os.getpid()})
    stack.on_stop(remove_stack)
    print(f"ready: REST {urls['http']}  WebSocket {urls['ws']}  web {urls['web']}", flush=True)
    for name in ("http", "ws", "management", "aws", "table", "pollers", "platforms", "shop", "web"):
        print(f"  {name:<11} {urls[name]}", flush=True)
    print(f"  demo shop:  {urls['web']}   (chat widget; agent console: {urls['web']}console/)", flush=True)
    for member, password in stack.desk:  # -- issue 11 --
        print(f"  sign-in     {member.username:<5} {password}  ({member.role})", flush=True)
    if stack.pool is not None:
        print(f"  cognito     pool {stack.pool.user_pool_id}  client {stack.pool.client_id}", flush=True)
    print("  customer token: .venv/bin/python -m local.token customer alice   (Ctrl-C stops the stack)", flush=True)
    print("  social webhook: .venv/bin/python -m local.webhook telegram \"hello\""
          "   (replies: <platforms>/_control/requests)", flush=True)
    stopped.wait()
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
