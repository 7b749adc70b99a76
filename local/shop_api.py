"""A small shop API (orders, shipments, refunds) that the sample knowledge base's actions call.

It is what a company puts behind the bot's actions (README "Bot actions"): every request is a JSON
POST signed like the generic webhook (``X-Signature-Timestamp``, ``X-Signature: v1=<hex
HMAC-SHA256(SHOP_API_SECRET, f"{timestamp}.{body}")>``, 5-minute window), and every answer only
covers the asking customer's own orders: an order belongs to a platform customer id
(``customer.id``) or to a channel identity (``customer.channel`` + ``customer.channel_user_id``);
anything else is a 404, exactly like an order that does not exist, so nobody can probe other
people's order numbers. Texts (status, last tracking event) come in the request's ``language``.

Routes: ``POST /actions/order-status``, ``/actions/logistics``, ``/actions/refund-status`` (slot
``order_number``) and ``/actions/orders`` (the customer's recent orders, for the agents' context).
Seeded orders: customers ``alice`` (NW10001 shipped, NW10002 delivered with a refund in progress,
also WeChat ``oFAKEopenid000000000000001`` and generic ``alice@example.com``) and ``bob`` (NW10003,
being packed). ``make dev`` starts it (``SHOP_API_PORT``, default 8026); on its own:

    python -m local.shop_api --port 8026
"""

from __future__ import annotations

import argparse
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib.channels.generic import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

DEV_SHOP_SECRET = "local-dev-shop-api-secret-000001"
REPLAY_WINDOW_SECONDS = 300

STATUS = {
    "processing": {"zh": "正在备货", "en": "being packed"},
    "shipped": {"zh": "已发货，运输中", "en": "shipped and on its way"},
    "delivered": {"zh": "已签收", "en": "delivered"},
}
CARRIERS = {"SF": {"zh": "顺丰速运", "en": "SF Express"}, "JD": {"zh": "京东物流", "en": "JD Logistics"}}
NOT_SHIPPED = {"zh": "尚未发货", "en": "not shipped yet"}
REFUND_STATUS = {"processing": {"zh": "正在处理中", "en": "is being processed"},
                 "refunded": {"zh": "已退回原支付账户", "en": "has been paid back to your original payment method"}}


@dataclass
class Order:
    number: str
    customer_ids: tuple[str, ...]
    identities: tuple[tuple[str, str], ...]
    status: str
    placed: date
    total: str
    carrier: str | None = None
    tracking_number: str | None = None
    eta: date | None = None
    events: list[dict[str, str]] = field(default_factory=list)  # newest first, per language
    refund: dict[str, str] | None = None  # {"status", "amount"}


def seed_orders(today: date | None = None) -> list[Order]:
    """The demo customers' orders, dated around ``today``."""
    today = today or datetime.now(UTC).date()
    alice = (("wechat", "oFAKEopenid000000000000001"), ("generic", "alice@example.com"))
    return [
        Order("NW10001", ("alice",), alice, "shipped", today - timedelta(days=2), "299.00", "SF",
              "SF1234567890", today + timedelta(days=1),
              [{"zh": "快件已到达【上海转运中心】", "en": "Arrived at the Shanghai sorting centre"}]),
        Order("NW10002", ("alice",), alice, "delivered", today - timedelta(days=12), "59.00", "JD", "JD0098765432",
              today - timedelta(days=9),
              [{"zh": "已签收，签收人：本人", "en": "Delivered, signed for by the customer"}],
              refund={"status": "processing", "amount": "59.00"}),
        Order("NW10003", ("bob",), (), "processing", today, "128.50"),
    ]


class ShopApi:
    """``ShopApi(secret).start()``; ``.url``; ``.config()`` is what the platform needs to call it."""

    def __init__(self, secret: str = DEV_SHOP_SECRET, host: str = "127.0.0.1", port: int = 0,
                 orders: list[Order] | None = None) -> None:
        self.secret = secret
        self._host, self._port = host, port
        self.orders = {o.number: o for o in (orders if orders is not None else seed_orders())}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ShopApi:
        handler = type("_BoundShopHandler", (_Handler,), {"shop": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="shop-api", daemon=True)
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

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def config(self) -> dict[str, str]:
        """The settings the sample KB's actions read (``{SHOP_API_URL}/actions/...``, secret ``SHOP_API_SECRET``)."""
        return {"SHOP_API_URL": self.url, "SHOP_API_SECRET": self.secret}

    def record(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body})

    # -- the API -------------------------------------------------------------------------------

    def verified(self, headers: Any, body: bytes) -> bool:
        timestamp, signature = headers.get(TIMESTAMP_HEADER) or "", headers.get(SIGNATURE_HEADER) or ""
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            return False
        return hmac.compare_digest(sign(self.secret, timestamp, body), signature)

    def _owned(self, request: dict[str, Any], number: str | None) -> Order | None:
        """The order if it exists AND belongs to the asking customer (by platform id or channel identity)."""
        order = self.orders.get((number or "").strip().upper())
        customer = request.get("customer") or {}
        if order is None:
            return None
        identity = (str(customer.get("channel") or ""), str(customer.get("channel_user_id") or ""))
        return order if customer.get("id") in order.customer_ids or identity in order.identities else None

    def answer(self, path: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        language = "zh" if request.get("language") == "zh" else "en"
        if path == "/actions/orders":
            if not (request.get("customer") or {}).get("id"):
                return 400, {"error": "customer.id is required"}
            mine = [o for o in self.orders.values() if self._owned(request, o.number)]
            mine.sort(key=lambda o: o.placed, reverse=True)
            if not mine:
                return 404, {"error": "no orders for this customer"}
            orders = [{"order_number": o.number, "status": STATUS[o.status][language],
                       "placed": o.placed.isoformat(), "total": o.total} for o in mine[:10]]
            return 200, {"count": len(mine), "latest_order_number": mine[0].number,
                         "latest_status": orders[0]["status"], "orders": orders}
        order = self._owned(request, (request.get("slots") or {}).get("order_number"))
        if order is None:
            return 404, {"error": "no such order for this customer"}
        carrier = CARRIERS[order.carrier][language] if order.carrier else NOT_SHIPPED[language]
        eta = order.eta.isoformat() if order.eta else NOT_SHIPPED[language]
        if path == "/actions/order-status":
            return 200, {"order_number": order.number, "status": STATUS[order.status][language], "carrier": carrier,
                         "eta": eta, "tracking_number": order.tracking_number or "-"}
        if path == "/actions/logistics":
            if not order.carrier:
                return 200, {"order_number": order.number, "carrier": carrier, "tracking_number": "-",
                             "last_event": STATUS[order.status][language], "eta": eta}
            return 200, {"order_number": order.number, "carrier": carrier, "tracking_number": order.tracking_number,
                         "last_event": order.events[0][language] if order.events else "-", "eta": eta}
        if path == "/actions/refund-status":
            if order.refund is None:
                return 404, {"error": "no refund for this order"}
            refund = REFUND_STATUS[order.refund["status"]][language]
            return 200, {"order_number": order.number, "refund_status": refund, "amount": order.refund["amount"]}
        return 404, {"error": "unknown action"}


class _Handler(BaseHTTPRequestHandler):
    shop: ShopApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self.shop.verified(self.headers, body):
            return self._send(401, {"error": "bad or missing signature"})
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self._send(400, {"error": "the body is not JSON"})
        if not isinstance(request, dict):
            return self._send(400, {"error": "the body is not a JSON object"})
        self.shop.record(self.path, dict(self.headers), request)
        status, answer = self.shop.answer(self.path.split("?", 1)[0], request)
        self._send(status, answer)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--secret", default=DEV_SHOP_SECRET)
    args = parser.parse_args(argv)
    shop = ShopApi(args.secret, args.host, args.port).start()
    print(f"shop api on {shop.url} (secret SHOP_API_SECRET={args.secret})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        shop.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
