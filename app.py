"""The switchboard: every route and event source the platform reacts to, each delegating to chalicelib."""

from __future__ import annotations

import os

from chalice import Chalice, Rate, Response

from chalicelib import wiring
from chalicelib.observability import middleware

app = Chalice(app_name="cs-platform")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.register_middleware(middleware, "all")

# -- issue 11: REST answers CORS for the agent console's origin only ------------------------------
# CONSOLE_ORIGIN (e.g. https://console.example.com, the console's CloudFront origin; the local stack
# sets its web server's) is read at import time: Chalice builds every route's OPTIONS answer from it,
# so it must be set before the routes below are declared. Unset: no route answers CORS.
if os.environ.get("CONSOLE_ORIGIN"):
    from chalice import CORSConfig

    app.api.cors = CORSConfig(allow_origin=os.environ["CONSOLE_ORIGIN"], allow_headers=["If-Match"], max_age=600)


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


# -- analytics: interaction stream archive and supervisor metrics --------------------------------

# Chalice needs the stream name when it builds the event source mapping, i.e. at import time. It
# imports app.py with the stage's environment_variables from .chalice/config.json already set
# (`chalice package/deploy --stage prod` -> cs-platform-prod-interactions), as does Lambda and the
# local stack; the default only serves plain imports such as unit tests.
INTERACTIONS_STREAM = os.environ.get("INTERACTIONS_STREAM_NAME", "cs-platform-dev-interactions")


@app.on_kinesis_record(stream=INTERACTIONS_STREAM, batch_size=500, starting_position="TRIM_HORIZON",
                       maximum_batching_window_in_seconds=30)
def archive_interactions(event):
    return wiring.archiver().handle(event.to_dict())


def _metrics_call(fn):
    """Supervisors and admins only; DomainErrors become their status and {"code", "message"}."""
    from chalicelib.errors import DomainError

    try:
        wiring.metrics_api().authorize(app.current_request.headers)
        return fn()
    except DomainError as exc:
        return Response(status_code=exc.status, body=exc.to_dict())


@app.route("/metrics/kpis", methods=["GET"])
def metrics_kpis():
    return _metrics_call(lambda: wiring.metrics_api().kpis(app.current_request.query_params))


@app.route("/metrics/live", methods=["GET"])
def metrics_live():
    return _metrics_call(lambda: wiring.metrics_api().live())


@app.route("/metrics/forecast", methods=["GET"])
def metrics_forecast():
    return _metrics_call(lambda: wiring.metrics_api().forecast(app.current_request.query_params))


# -- bot: knowledge base (REST), retraining (SQS) ------------------------------------------------

# The queue name is needed at import time (event source mapping); see INTERACTIONS_STREAM above.
TRAINING_QUEUE = os.environ.get("TRAINING_QUEUE_NAME", "cs-platform-dev-training")


def _kb_call(fn):
    """Run `fn(kb_api)` with domain and validation errors translated to JSON 4xx answers."""
    from chalicelib.http import rest_errors

    return rest_errors(lambda: fn(wiring.kb_api()))()


@app.route("/kb", methods=["GET"])
def kb_list():
    return _kb_call(lambda api: api.list(app.current_request, wiring.model_registry().pointer()))


@app.route("/kb/export", methods=["GET"])
def kb_export():
    return _kb_call(lambda api: api.export(app.current_request))


@app.route("/kb/import", methods=["POST"])
def kb_import():
    return _kb_call(lambda api: api.import_json(app.current_request))


@app.route("/kb/import/csv", methods=["POST"])
def kb_import_csv():
    return _kb_call(lambda api: api.import_csv(app.current_request))


@app.route("/kb/train", methods=["POST"])
def kb_train():
    return _kb_call(lambda api: api.train(app.current_request))


@app.route("/kb/intents/{name}", methods=["GET", "PUT", "DELETE"])
def kb_intent(name):
    request = app.current_request
    return _kb_call(lambda api: {"GET": api.get, "PUT": api.put, "DELETE": api.delete}[request.method](request, name))


@app.on_sqs_message(queue=TRAINING_QUEUE, batch_size=1, maximum_concurrency=2)
def train_model(event):
    """Retrain the bot from the current KB version (a failure is retried, then dead-lettered)."""
    from chalicelib.bot.training import parse_job

    for record in event:
        wiring.trainer().handle(parse_job(record.body))


# -- human agents: escalation routing (SQS), sweeps (schedule), agent/supervisor/admin REST ---------

# The queue name is needed at import time (event source mapping); see INTERACTIONS_STREAM above.
ESCALATION_QUEUE = os.environ.get("ESCALATION_QUEUE_NAME", "cs-platform-dev-escalations")

from chalicelib.agents.api import api as agents_api  # noqa: E402 - the blueprint's routes

app.register_blueprint(agents_api)


@app.on_sqs_message(queue=ESCALATION_QUEUE, batch_size=10)
def route_escalations(event):
    """Route each escalation; failed records are reported (ReportBatchItemFailures) and retried."""
    from chalicelib.routing.consumer import handle_batch

    return handle_batch(event.to_dict(), wiring.routing(), getattr(event, "context", None))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def agent_sweeps(event):
    """Expired offers pass on, the queue is served, SLA breaches flagged, idle conversations closed."""
    from chalicelib.routing.consumer import sweep

    return sweep(wiring.routing(), wiring.tickets(), wiring.workspace())


# -- channels: social and webhook platforms, unified customer identity, outbound delivery ---------

# The queue name is needed at import time (event source mapping); see INTERACTIONS_STREAM above.
OUTBOUND_QUEUE = os.environ.get("OUTBOUND_QUEUE_NAME", "cs-platform-dev-outbound")


def _webhook_response(result):
    import json

    body = result.body if isinstance(result.body, str) else json.dumps(result.body)
    return Response(status_code=result.status, body=body, headers={"Content-Type": result.content_type})


@app.route("/webhooks/{channel}", methods=["POST"], content_types=["application/json", "application/xml",
                                                                   "text/xml", "text/plain",
                                                                   "application/x-www-form-urlencoded"])
def webhook_receive(channel):
    from chalicelib.channels.models import WebhookRequest

    return _webhook_response(wiring.webhooks().receive(channel, WebhookRequest.from_chalice(app.current_request)))


@app.route("/webhooks/{channel}", methods=["GET"])
def webhook_handshake(channel):
    from chalicelib.channels.models import WebhookRequest

    return _webhook_response(wiring.webhooks().handshake(channel, WebhookRequest.from_chalice(app.current_request)))


@app.on_sqs_message(queue=OUTBOUND_QUEUE, batch_size=10)
def send_outbound(event):
    """Deliver replies on the customer's platform; partial batch failures are retried with backoff."""
    return wiring.outbound_consumer().handle_batch(event.to_dict(), getattr(event, "context", None))


@app.route("/customers/lookup", methods=["GET"])
def customers_lookup():
    from chalicelib.customers import api

    return api.lookup(app.current_request)


@app.route("/customers/{customer_id}", methods=["GET"])
def customers_profile(customer_id):
    from chalicelib.customers import api

    return api.profile(app.current_request, customer_id)


@app.route("/customers/{customer_id}/timeline", methods=["GET"])
def customers_timeline(customer_id):
    from chalicelib.customers import api

    return api.timeline(app.current_request, customer_id)


@app.route("/customers/{customer_id}/merge", methods=["POST"])
def customers_merge(customer_id):
    from chalicelib.customers import api

    return api.merge(app.current_request, customer_id)


@app.route("/customers/{customer_id}/merge/{audit_id}/undo", methods=["POST"])
def customers_merge_undo(customer_id, audit_id):
    from chalicelib.customers import api

    return api.undo_merge(app.current_request, customer_id, audit_id)


# -- clients: guest tokens, CORS ------------------------------------------------------------------


@app.middleware("http")
def cors_headers(event, get_response):
    """Listed origins (CORS_ALLOWED_ORIGINS) get CORS headers on every REST answer; others none."""
    from chalicelib.clients.cors import header

    response = get_response(event)
    response.headers.update(wiring.cors_policy().response_headers(header(event.headers, "origin")))
    return response


@app.route("/auth/guest", methods=["POST"], cors=False)  # its CORS comes from the middleware above
def auth_guest():
    """A short-lived token for a new guest customer, or the same guest's renewed (off unless GUEST_CHAT_ENABLED)."""
    from chalicelib.clients.api import guest_token

    return guest_token(wiring.guest_tokens(), app.current_request)


@app.route("/auth/guest", methods=["OPTIONS"], cors=False)
def auth_guest_preflight():
    from chalicelib.clients.cors import header

    status, headers = wiring.cors_policy().preflight(header(app.current_request.headers, "origin"))
    return Response(body="", status_code=status, headers=headers)
