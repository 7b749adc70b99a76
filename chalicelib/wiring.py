"""The one place where AWS clients and services are created.

Everything is built lazily on first use and cached for the life of the container, so importing
`app.py` makes no AWS call and costs little; `reset()` drops the cache (tests, the local stack
after it has pointed the environment at moto).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from chalicelib.settings import Settings

_lock = threading.RLock()


def _cached(fn):  # type: ignore[no-untyped-def]
    """functools.cache with a lock: the local stack calls handlers from several threads."""
    cached = functools.cache(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        with _lock:
            return cached(*args)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    _registry.append(cached)
    return wrapper


_registry: list[Any] = []


def reset() -> None:
    for cached in _registry:
        cached.cache_clear()


@_cached
def settings() -> Settings:
    return Settings.from_env()


@_cached
def session() -> Any:
    import boto3

    return boto3.session.Session(region_name=settings().region)


@_cached
def client(service: str) -> Any:
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10,
                    tcp_keepalive=True)
    return session().client(service, config=config)


@_cached
def management_client(endpoint: str) -> Any:
    from botocore.config import Config

    # Short timeouts and one retry: fan-out must not stall on a dead peer (410 is never retried).
    config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=5)
    return session().client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


@_cached
def secrets() -> Any:
    from chalicelib.secrets import Secrets

    return Secrets(prefix=settings().ssm_parameter_prefix, ssm_client_factory=lambda: client("ssm"))


@_cached
def conversation_store() -> Any:
    from chalicelib.store.conversation_store import ConversationStore

    return ConversationStore(client("dynamodb"), settings().table_name)


@_cached
def connection_store() -> Any:
    from chalicelib.store.connection_store import ConnectionStore

    return ConnectionStore(client("dynamodb"), settings().table_name, settings().connection_ttl_seconds)


@_cached
def pusher() -> Any:
    from chalicelib.chat.push import Pusher

    return Pusher(management_client)


@_cached
def conversations() -> Any:
    from chalicelib.conversations.service import ConversationService

    service = ConversationService(conversation_store(), connection_store(), pusher())
    # -- analytics: every stored message becomes interaction events --
    service.add_listener(analytics_listener())
    # -- bot: answers customer messages from the knowledge base, hands over to humans --
    service.add_listener(bot_listener(service))
    # -- routing: customer messages reach the assigned agent, idle tracking, survey answers --
    from chalicelib.agents.workspace import AgentRelay

    service.add_listener(AgentRelay(workspace))
    # -- channels: replies to social customers go out through the outbound queue --
    service.add_listener(outbound_listener())
    return service


@_cached
def chat() -> Any:
    from chalicelib.chat.handler import ChatHandler
    from chalicelib.observability import metrics

    handler = ChatHandler(settings(), conversations(), connection_store(), pusher(), secrets().require, metrics,
                          verify_agent=lambda token: agent_verifier().verify(token))
    # -- routing: the agent protocol and the customer's requestHuman / rate frames --
    from chalicelib.agents.ws import install

    install(handler, workspace)
    return handler


# -- analytics (interaction stream, archive, KPIs) ---------------------------------------------


@_cached
def kinesis_client() -> Any:
    from botocore.config import Config

    # On the customer's path (flushed at the end of the invocation): fail fast, retry little.
    config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 2})
    return session().client("kinesis", config=config)


@_cached
def analytics() -> Any:
    """The InteractionPublisher (pseudonym key = secret PSEUDONYM_KEY). Used through analytics.emit."""
    from chalicelib.analytics.publisher import InteractionPublisher
    from chalicelib.observability import logger, metrics

    return InteractionPublisher(kinesis_client(), settings().interactions_stream_name,
                                secrets().require("PSEUDONYM_KEY"), metrics=metrics, logger=logger)


@_cached
def analytics_listener() -> Any:
    from chalicelib.analytics.emit import emit
    from chalicelib.analytics.listener import AnalyticsListener

    def customer_of(conversation_id: str) -> str | None:
        conversation = conversation_store().get_conversation(conversation_id)
        return conversation.customer_id if conversation else None

    return AnalyticsListener(emit, customer_of)


@_cached
def live_counters() -> Any:
    from chalicelib.analytics.live import LiveCounters

    return LiveCounters(client("dynamodb"), settings().table_name)


@_cached
def account_id() -> str:
    """This account's id (one STS GetCallerIdentity per container; needs no IAM permission)."""
    return client("sts").get_caller_identity()["Account"]


def resolve_placeholders(text: str) -> str:
    """`{account_id}` and `{region}` in a configured name (bucket names, S3 URLs) filled in."""
    if "{account_id}" in text:
        text = text.replace("{account_id}", account_id())
    return text.replace("{region}", settings().region)


@_cached
def bucket_name() -> str:
    """ANALYTICS_BUCKET_NAME with `{account_id}` and `{region}` resolved once per container."""
    return resolve_placeholders(settings().analytics_bucket_name)


@_cached
def archiver() -> Any:
    from chalicelib.analytics.archive import EventArchiver
    from chalicelib.observability import logger, metrics

    return EventArchiver(client("s3"), bucket_name(), logger=logger, metrics=metrics)


@_cached
def metrics_api() -> Any:
    from chalicelib.analytics.api import MetricsApi

    return MetricsApi(settings(), secrets().require, live_counters(), kpi_engine, queue_stats,
                      verify_agent=lambda token: agent_verifier().verify(token))


def kpi_engine() -> Any:
    """KPI_ENGINE=athena (AWS, default) or duckdb (local stack; duckdb is a dev-only dependency)."""
    import os

    if os.environ.get("KPI_ENGINE", "athena").lower() == "duckdb":
        from chalicelib.analytics.kpis import DuckDBEngine

        return DuckDBEngine(s3_client=client("s3"), bucket=bucket_name())
    from chalicelib.analytics.kpis import AthenaEngine

    output = os.environ.get("ATHENA_OUTPUT_LOCATION") or f"s3://{bucket_name()}/athena-results/"
    return AthenaEngine(client("athena"), database=os.environ["ATHENA_DATABASE"],
                        workgroup=os.environ.get("ATHENA_WORKGROUP", "primary"),
                        output_location=resolve_placeholders(output), timeout=25.0)


def queue_stats() -> dict[str, Any]:
    """Queue length and agents online for the live dashboard, from the routing domain when present."""
    from chalicelib.analytics.api import routing_queue_stats

    return routing_queue_stats()


# -- bot (knowledge base, retraining, live model, dialogue policy) -------------------------------


@_cached
def kb_store() -> Any:
    from chalicelib.bot.kb import KnowledgeBaseStore

    return KnowledgeBaseStore(client("dynamodb"), settings().table_name)


@_cached
def training_queue() -> Any:
    from chalicelib.bot.training import TrainingQueue

    return TrainingQueue(client("sqs"), settings().training_queue_name)


@_cached
def model_registry() -> Any:
    from chalicelib.bot.training import ModelRegistry

    return ModelRegistry(client("dynamodb"), settings().table_name, client("s3"), bucket_name)


@_cached
def trainer() -> Any:
    from chalicelib.bot.training import Trainer

    return Trainer(kb_store(), model_registry())


@_cached
def model_provider() -> Any:
    """The live model of this container: loaded on first use, pointer re-read every BOT_MODEL_REFRESH_SECONDS."""
    from chalicelib.bot.serving import ModelProvider

    return ModelProvider(model_registry(), settings().model_refresh_seconds)


@_cached
def kb_api() -> Any:
    from chalicelib.bot.api import KnowledgeBaseApi

    return KnowledgeBaseApi(kb_store(), training_queue())


@_cached
def bot_escalations() -> Any:
    from chalicelib.routing.publisher import EscalationPublisher

    return EscalationPublisher(client("sqs"), settings().escalation_queue_name)


def bot_listener(service: Any) -> Any:
    """The bot as a listener of `service` (built inside `conversations()`, hence not cached itself)."""
    from chalicelib.bot.listener import BotListener, BotState
    from chalicelib.bot.policy import DialoguePolicy, PolicyConfig

    return BotListener(service, BotState(client("dynamodb"), settings().table_name),
                       DialoguePolicy(PolicyConfig.from_env()), lambda: model_provider().current(),
                       lambda request: bot_escalations().publish(request), enabled=settings().bot_enabled)


# -- human agents: routing, workspace, tickets, CSAT (routing domain) ---------------------------


@_cached
def routing_store() -> Any:
    from chalicelib.routing.store import RoutingStore

    return RoutingStore(client("dynamodb"), settings().table_name)


@_cached
def escalations() -> Any:
    """The EscalationPublisher: `escalations().publish(EscalationRequest(...))` puts one on the SQS queue."""
    from chalicelib.routing.publisher import EscalationPublisher

    return EscalationPublisher(client("sqs"), settings().escalation_queue_name)


@_cached
def tickets() -> Any:
    """The TicketService; channels call `tickets().create_from_channel(...)` for e-mail / generic messages."""
    from chalicelib.tickets.service import TicketService
    from chalicelib.tickets.store import TicketStore

    return TicketService(TicketStore(client("dynamodb"), settings().table_name), routing_store().get_config,
                         notify=lambda assignee, frame: workspace().notify(assignee, frame))


@_cached
def routing() -> Any:
    from chalicelib.routing.service import RoutingService
    from chalicelib.tickets.models import TicketInput

    def offline_ticket(request: Any) -> Any:
        data = TicketInput(subject=f"Out-of-hours request: {request.reason}"[:300], customer_id=request.customer_id,
                           conversation_id=request.conversation_id, priority="high" if request.priority else "normal",
                           tags=["offline", *request.skills][:20])
        return tickets().create(data, actor="system:routing", source="offline_escalation",
                                idempotency_key=f"offline#{request.idempotency_key}")

    return RoutingService(routing_store(), conversations(), open_ticket=offline_ticket)


@_cached
def workspace() -> Any:
    from chalicelib.agents.csat import CsatService
    from chalicelib.agents.workspace import Workspace

    csat = CsatService(client("dynamodb"), settings().table_name, conversations(), routing_store())
    csat.nps_enabled = lambda: routing_store().get_config().nps_enabled
    from chalicelib.agents.assist import suggest_replies

    return Workspace(routing(), conversations(), csat, tickets(), escalations().publish,
                     suggest=lambda text: suggest_replies(model_provider().current(), text))


# -- channels (social webhooks, unified identity, outbound delivery) ----------------------------


@_cached
def identity_store() -> Any:
    from chalicelib.store.identity_store import IdentityStore

    return IdentityStore(client("dynamodb"), settings().table_name)


@_cached
def delivery_store() -> Any:
    from chalicelib.store.delivery_store import DeliveryStore

    return DeliveryStore(client("dynamodb"), settings().table_name)


@_cached
def channel_secrets() -> Any:
    from chalicelib.webhooks.inbound import ChannelSecrets

    return ChannelSecrets(secrets())


@_cached
def webhooks() -> Any:
    from chalicelib.observability import metrics
    from chalicelib.webhooks.inbound import WebhookService

    return WebhookService(channel_secrets(), identity_store(), delivery_store(), conversations(), metrics)


@_cached
def queue_url(name: str) -> str:
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


@_cached
def outbound_listener() -> Any:
    from chalicelib.observability import metrics
    from chalicelib.outbound import queue_name
    from chalicelib.outbound.listener import OutboundListener

    return OutboundListener(delivery_store(), conversation_store(), client("sqs"), lambda: queue_url(queue_name()),
                            metrics)


@_cached
def outbound_consumer() -> Any:
    from chalicelib.channels.http import ChannelSender
    from chalicelib.observability import metrics
    from chalicelib.outbound import queue_name
    from chalicelib.outbound.consumer import OutboundConsumer

    return OutboundConsumer(delivery_store(), ChannelSender(), channel_secrets(), client("sqs"), queue_url,
                            f"{queue_name()}-dlq", conversations(), metrics)


@_cached
def customers() -> Any:
    from chalicelib.customers.service import CustomerService

    return CustomerService(identity_store(), conversation_store())


# -- clients (issue 10): guest tokens for the chat widget, CORS for the routes browsers call ------


@_cached
def guest_tokens() -> Any:
    from chalicelib.clients.guest import GuestSettings, GuestTokens

    return GuestTokens(client("dynamodb"), settings().table_name, secrets().require, GuestSettings.from_env())


@_cached
def cors_policy() -> Any:
    from chalicelib.clients.cors import CorsPolicy

    return CorsPolicy.from_env()


# -- issue 11: agents sign in with the Cognito user pool (infra/agents-auth.yaml) ---------------


@_cached
def agent_verifier() -> Any:
    """Agents' tokens: Cognito access tokens when COGNITO_USER_POOL_ID is configured, and HS256 JWTs."""
    import os

    from chalicelib.auth.cognito import AgentTokenVerifier, CognitoVerifier

    pool_id = secrets().get("COGNITO_USER_POOL_ID")
    cognito = None
    if pool_id:
        client_ids = [c.strip() for c in (secrets().get("COGNITO_CLIENT_IDS") or "").split(",")]
        # COGNITO_JWKS_URL: the local stack's moto serves the pool's keys at its own address
        cognito = CognitoVerifier(settings().region, pool_id, client_ids,
                                  jwks_url=os.environ.get("COGNITO_JWKS_URL") or None)
    return AgentTokenVerifier(lambda: secrets().require("AGENT_TOKEN_SECRET"), cognito)
