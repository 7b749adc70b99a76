"""A simulated clock for the local stack, so a simulator can play a month of traffic in minutes.

`python -m local.devserver --simulated-clock` installs `SimulatedClock.now` as the one clock of the
Lambda code (`chalicelib.ids.set_clock`) and serves a control endpoint on loopback (CLOCK_PORT,
default WS_PORT + 2):

    GET  /clock                      -> {"now_ms": ..., "iso": "..."}
    POST /clock {"set_ms": N}        -> jump to N (ms since the epoch)
    POST /clock {"advance_ms": N}    -> move forward by N ms

Between two changes the simulated time runs at the real rate, so timestamps stay strictly
increasing within a burst of messages. Nothing here is imported by Lambda code.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.request import Request, urlopen


class SimulatedClock:
    def __init__(self, start_ms: int | None = None) -> None:
        self._lock = threading.Lock()
        self._base_sim = (start_ms / 1000) if start_ms is not None else time.time()
        self._base_real = time.monotonic()

    def now(self) -> float:
        """Seconds since the epoch in simulated time."""
        with self._lock:
            return self._base_sim + (time.monotonic() - self._base_real)

    def set_ms(self, ms: int) -> None:
        with self._lock:
            self._base_sim, self._base_real = ms / 1000, time.monotonic()

    def advance_ms(self, ms: int) -> None:
        with self._lock:
            self._base_sim += ms / 1000

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        """Start the control endpoint in a daemon thread; returns the server (port 0 = any free port)."""
        clock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _now(self) -> dict[str, Any]:
                from chalicelib.ids import iso_from_ms

                ms = int(clock.now() * 1000)
                return {"now_ms": ms, "iso": iso_from_ms(ms)}

            def do_GET(self) -> None:
                if self.path.rstrip("/") != "/clock":
                    self._answer(404, {"code": "not_found"})
                    return
                self._answer(200, self._now())

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/clock":
                    self._answer(404, {"code": "not_found"})
                    return
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                    if "set_ms" in body:
                        clock.set_ms(int(body["set_ms"]))
                    elif "advance_ms" in body:
                        if int(body["advance_ms"]) < 0:
                            raise ValueError("advance_ms must not be negative")
                        clock.advance_ms(int(body["advance_ms"]))
                    else:
                        raise ValueError("give set_ms or advance_ms")
                except (ValueError, TypeError) as exc:
                    self._answer(400, {"code": "invalid_input", "message": str(exc)})
                    return
                self._answer(200, self._now())

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="clock", daemon=True).start()
        return server


class ClockClient:
    """The simulator's side of the control endpoint."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/clock"

    def _call(self, body: dict[str, Any] | None = None) -> int:
        data = json.dumps(body).encode() if body is not None else None
        request = Request(self.url, data=data, method="POST" if body is not None else "GET",
                          headers={"Content-Type": "application/json"})
        with urlopen(request, timeout=5) as response:
            return int(json.loads(response.read())["now_ms"])

    def now_ms(self) -> int:
        return self._call()

    def set_ms(self, ms: int) -> int:
        return self._call({"set_ms": int(ms)})

    def advance_ms(self, ms: int) -> int:
        return self._call({"advance_ms": int(ms)})


def start_simulated_clock(host: str, port: int, start_ms: int | None = None) -> tuple[str, ThreadingHTTPServer]:
    """Make the Lambda code read a SimulatedClock and serve its control endpoint; returns (url, server)."""
    from chalicelib import ids

    clock = SimulatedClock(start_ms)
    ids.set_clock(clock.now)
    server = clock.serve(host, port)
    return f"http://{host}:{server.server_address[1]}", server
