"""The switchboard: every route and event source the platform reacts to, each delegating to chalicelib."""

from __future__ import annotations

from chalice import Chalice, Response

from chalicelib import wiring
from chalicelib.observability import middleware

app = Chalice(app_name="cs-platform")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.register_middleware(middleware, "all")


# -- WebSocket chat (customers and agents) ---------------------------------------------------


@app.on_ws_connect()
def ws_connect(event):
    result = wiring.chat().connect(event.to_dict())
    return Response(status_code=result.status, body=result.body or "")


@app.on_ws_message()
def ws_message(event):
    wiring.chat().handle_frame(event.to_dict())


@app.on_ws_disconnect()
def ws_disconnect(event):
    wiring.chat().disconnect(event.to_dict())


# -- REST ------------------------------------------------------------------------------------


@app.route("/health", methods=["GET"])
def health():
    return {"status": "ok"}
