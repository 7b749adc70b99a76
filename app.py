"""The switchboard: every route and event source the platform reacts to, each delegating to chalicelib.

Handlers are one call into `services()`, the typed composition root (`chalicelib/services.py`).
"""

from __future__ import annotations

import os

from chalice import Chalice, Rate, Response

from chalicelib.observability import middleware
from chalicelib.services import services

app = Chalice(app_name="cs-platform")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.register_middleware(middleware(lambda: services().recorder.batch()), "all")


@app.middleware("http")
def cors_headers(event, get_response):
    """Listed origins (CORS_ALLOWED_ORIGINS) get CORS headers on every REST answer; others none."""
    return services().cors_policy.decorate(event, get_response(event))

# Chalice needs queue and stream names when it builds the event source mappings, i.e. at import
# time. It imports app.py with the stage's environment_variables from .chalice/config.json already
# set (`chalice package/deploy --stage prod` -> cs-platform-prod-...), as do Lambda and the local
# stack; the defaults only serve plain imports such as unit tests.
INTERACTIONS_STREAM = os.environ.get("INTERACTIONS_STREAM_NAME", "cs-platform-dev-interactions")
TRAINING_QUEUE = os.environ.get("TRAINING_QUEUE_NAME", "cs-platform-dev-training")
ESCALATION_QUEUE = os.environ.get("ESCALATION_QUEUE_NAME", "cs-platform-dev-escalations")
OUTBOUND_QUEUE = os.environ.get("OUTBOUND_QUEUE_NAME", "cs-platform-dev-outbound")
EFFECTS_QUEUE = os.environ.get("EFFECTS_QUEUE_NAME", "cs-platform-dev-effects.fifo")
FOLLOWUP_QUEUE = os.environ.get("FOLLOWUP_QUEUE_NAME", "cs-platform-dev-followups")  # issue 16
CAMPAIGN_QUEUE = os.environ.get("CAMPAIGN_QUEUE_NAME", "cs-platform-dev-campaigns")  # issue 16
WEBHOOK_CONTENT_TYPES = ["application/json", "application/xml", "text/xml", "text/plain",
                         "application/x-www-form-urlencoded"]

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
    result = services().chat.connect(event.to_dict())
    return Response(status_code=result.status, body=result.body or "")


@app.on_ws_message()
def ws_message(event):
    services().chat.handle_frame(event.to_dict())


@app.on_ws_disconnect()
def ws_disconnect(event):
    services().chat.disconnect(event.to_dict())


# -- REST: every route is one call to a REST edge of chalicelib, which authenticates it ---------


@app.route("/health", methods=["GET"])
def health():
    return {"status": "ok"}


@app.route("/auth/guest", methods=["POST"], cors=False)  # its CORS comes from the middleware above
def auth_guest():
    """A short-lived token for a new guest customer, or the same guest's renewed (off unless GUEST_CHAT_ENABLED)."""
    return services().guest_rest.token(app.current_request)


@app.route("/auth/guest", methods=["OPTIONS"], cors=False)
def auth_guest_preflight():
    return services().guest_rest.preflight(app.current_request)


@app.route("/metrics/kpis", methods=["GET"])
def metrics_kpis():
    return services().metrics_rest.kpis(app.current_request)


@app.route("/metrics/live", methods=["GET"])
def metrics_live():
    return services().metrics_rest.live(app.current_request)


@app.route("/metrics/forecast", methods=["GET"])
def metrics_forecast():
    return services().metrics_rest.forecast(app.current_request)


@app.route("/kb", methods=["GET"])
def kb_list():
    return services().kb_rest.list(app.current_request)


@app.route("/kb/export", methods=["GET"])
def kb_export():
    return services().kb_rest.export(app.current_request)


@app.route("/kb/import", methods=["POST"])
def kb_import():
    return services().kb_rest.import_json(app.current_request)


@app.route("/kb/import/csv", methods=["POST"])
def kb_import_csv():
    return services().kb_rest.import_csv(app.current_request)


@app.route("/kb/train", methods=["POST"])
def kb_train():
    return services().kb_rest.train(app.current_request)


@app.route("/kb/intents/{name}", methods=["GET", "PUT", "DELETE"])
def kb_intent(name):
    return services().kb_rest.intent(app.current_request, name)


@app.route("/admin/agents/{agent_id}", methods=["PUT"])
def admin_put_agent(agent_id):
    return services().agents_rest.put_agent(app.current_request, agent_id)


@app.route("/admin/teams/{team_id}", methods=["PUT"])
def admin_put_team(team_id):
    return services().agents_rest.put_team(app.current_request, team_id)


@app.route("/admin/teams", methods=["GET"])
def admin_list_teams():
    return services().agents_rest.list_teams(app.current_request)


@app.route("/admin/config", methods=["GET", "PUT"])
def admin_desk_config():
    return services().agents_rest.desk_config(app.current_request)


@app.route("/admin/canned/{canned_id}", methods=["PUT"])
def admin_put_canned(canned_id):
    return services().agents_rest.put_canned(app.current_request, canned_id)


@app.route("/admin/sla-policies/{priority}", methods=["PUT"])
def admin_put_sla_policy(priority):
    return services().agents_rest.put_sla_policy(app.current_request, priority)


# -- issue 11 (follow-up): the stored SLA policies, for the admin page (admins and supervisors read) -----
@app.route("/admin/sla-policies", methods=["GET"])
def admin_sla_policies():
    return services().agents_rest.sla_policies(app.current_request)


@app.route("/supervisor/queue", methods=["GET"])
def supervisor_queue():
    return services().agents_rest.supervisor_queue(app.current_request)


@app.route("/supervisor/agents", methods=["GET"])
def supervisor_agents():
    return services().agents_rest.supervisor_agents(app.current_request)


@app.route("/agent/work", methods=["GET"])
def agent_work():
    return services().agents_rest.agent_work(app.current_request)


@app.route("/agent/status", methods=["PUT"])
def agent_status():
    return services().agents_rest.agent_status(app.current_request)


@app.route("/agent/canned", methods=["GET"])
def agent_canned():
    return services().agents_rest.agent_canned(app.current_request)


@app.route("/agent/conversations/{conversation_id}", methods=["GET"])
def agent_conversation(conversation_id):
    return services().agents_rest.conversation_context(app.current_request, conversation_id)


@app.route("/agent/conversations/{conversation_id}/{verb}", methods=["POST"])
def agent_conversation_action(conversation_id, verb):
    return services().agents_rest.conversation_action(app.current_request, conversation_id, verb)


@app.route("/tickets", methods=["POST", "GET"])
def tickets():
    return services().agents_rest.tickets(app.current_request)


@app.route("/tickets/{ticket_id}", methods=["GET", "PATCH"])
def ticket(ticket_id):
    return services().agents_rest.ticket(app.current_request, ticket_id)


@app.route("/customers/lookup", methods=["GET"])
def customers_lookup():
    return services().customers_rest.lookup(app.current_request)


@app.route("/customers/{customer_id}", methods=["GET"])
def customers_profile(customer_id):
    return services().customers_rest.profile(app.current_request, customer_id)


@app.route("/customers/{customer_id}/timeline", methods=["GET"])
def customers_timeline(customer_id):
    return services().customers_rest.timeline(app.current_request, customer_id)


@app.route("/customers/{customer_id}/merge", methods=["POST"])
def customers_merge(customer_id):
    return services().customers_rest.merge(app.current_request, customer_id)


@app.route("/customers/{customer_id}/merge/{audit_id}/undo", methods=["POST"])
def customers_merge_undo(customer_id, audit_id):
    return services().customers_rest.undo_merge(app.current_request, customer_id, audit_id)


@app.route("/customers/{customer_id}/access-log", methods=["GET"])
def customers_access_log(customer_id):
    return services().customers_rest.access_log(app.current_request, customer_id)


@app.route("/access-log", methods=["GET"])
def access_log():
    return services().customers_rest.access_log(app.current_request)


# -- issue 16: privacy rights (export, erasure, marketing consent) ----------------------------------


@app.route("/customers/{customer_id}/export", methods=["GET"])
def customers_export(customer_id):
    return services().privacy_rest.export(app.current_request, customer_id)


@app.route("/customers/{customer_id}", methods=["DELETE"])
def customers_erase(customer_id):
    return services().privacy_rest.erase(app.current_request, customer_id)


@app.route("/customers/{customer_id}/consent", methods=["GET"])
def customers_consent(customer_id):
    return services().privacy_rest.get_consent(app.current_request, customer_id)


@app.route("/customers/{customer_id}/consent/{channel}", methods=["PUT"])
def customers_put_consent(customer_id, channel):
    return services().privacy_rest.put_consent(app.current_request, customer_id, channel)


# -- issue 16: templates, agent-initiated conversations, campaigns -------------------------------


@app.route("/templates", methods=["GET"])
def templates_usable():
    return services().outreach_rest.list_templates(app.current_request)


@app.route("/admin/templates", methods=["GET"])
def admin_templates():
    return services().outreach_rest.list_templates(app.current_request, admin=True)


@app.route("/admin/templates/{template_id}/{language}", methods=["PUT", "GET", "DELETE"])
def admin_template(template_id, language):
    return services().outreach_rest.template(app.current_request, template_id, language)


@app.route("/conversations", methods=["POST"])
def conversations_start():
    return services().outreach_rest.start_conversation(app.current_request)


@app.route("/campaigns", methods=["POST", "GET"])
def campaigns():
    return services().outreach_rest.campaigns(app.current_request)


@app.route("/campaigns/{campaign_id}", methods=["GET"])
def campaign_report(campaign_id):
    return services().outreach_rest.campaign(app.current_request, campaign_id)


@app.route("/campaigns/{campaign_id}/{verb}", methods=["POST"])
def campaign_action(campaign_id, verb):
    return services().outreach_rest.campaign_action(app.current_request, campaign_id, verb)


@app.route("/customers/{customer_id}/tags", methods=["PUT"])
def customers_tags(customer_id):
    return services().outreach_rest.customer_tags(app.current_request, customer_id)


@app.route("/customers/{customer_id}/outreach", methods=["GET"])
def customers_outreach(customer_id):
    return services().outreach_rest.customer_outreach(app.current_request, customer_id)


@app.route("/webhooks/{channel}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def webhook_receive(channel):
    return services().webhooks_rest.receive(app.current_request, channel)


@app.route("/webhooks/{channel}", methods=["GET"])
def webhook_handshake(channel):
    return services().webhooks_rest.handshake(app.current_request, channel)


# -- issue 14: missed questions, grouped by meaning, turned into KB examples (KB writers) ----------


@app.route("/kb/misses", methods=["GET"])
def kb_misses():
    return services().misses_rest.list(app.current_request)


@app.route("/kb/misses/{cluster}/assign", methods=["POST"])
def kb_misses_assign(cluster):
    return services().misses_rest.assign(app.current_request, cluster)

# -- queues, streams and schedules ---------------------------------------------------------------


@app.on_kinesis_record(stream=INTERACTIONS_STREAM, batch_size=500, starting_position="TRIM_HORIZON",
                       maximum_batching_window_in_seconds=30)
def archive_interactions(event):
    """Interaction events to S3 (gzip JSON Lines, deterministic keys: a replay overwrites)."""
    return services().archiver.handle(event.to_dict())


@app.on_sqs_message(queue=TRAINING_QUEUE, batch_size=1, maximum_concurrency=2)
def train_model(event):
    """Retrain the bot from the current KB version (a failure is retried, then dead-lettered)."""
    services().trainer.handle_records(event, getattr(event, "context", None))


@app.on_sqs_message(queue=EFFECTS_QUEUE, batch_size=10)
def process_effects(event):
    """A stored message's effects (fan-out, agents, surveys, bot, outbound, analytics), per conversation in order."""
    return services().effects_consumer.handle_batch(event.to_dict(), getattr(event, "context", None))


@app.on_sqs_message(queue=ESCALATION_QUEUE, batch_size=10)
def route_escalations(event):
    """Route each escalation; failed records are reported (ReportBatchItemFailures) and retried."""
    return services().escalation_consumer.handle_batch(event.to_dict(), getattr(event, "context", None))


@app.on_sqs_message(queue=OUTBOUND_QUEUE, batch_size=10)
def send_outbound(event):
    """Deliver replies on the customer's platform; partial batch failures are retried with backoff."""
    return services().outbound_consumer.handle_batch(event.to_dict(), getattr(event, "context", None))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def agent_sweeps(event):
    """Expired offers pass on, the queue is served, SLA breaches flagged, idle conversations closed."""
    return services().sweeps.run()


# -- issue 16: follow-ups and campaigns ---------------------------------------------------------


@app.on_sqs_message(queue=FOLLOWUP_QUEUE, batch_size=10)
def send_followups(event):
    """Send each due follow-up once (cancelled ones are skipped); failures are retried by SQS."""
    return services().followups.handle_batch(event.to_dict(), getattr(event, "context", None))


@app.on_sqs_message(queue=CAMPAIGN_QUEUE, batch_size=10)
def run_campaigns(event):
    """Build campaign audiences page by page and send each recipient's message once, paced per channel."""
    return services().campaigns.handle_batch(event.to_dict(), getattr(event, "context", None))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def outreach_sweeps(event):
    """Follow-ups due within 15 minutes go to their queue; stalled campaign builds restart."""
    return services().outreach_sweep.run()
