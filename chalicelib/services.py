"""The typed composition root: every AWS client and service of a container, built lazily, once.

`services()` is reached only from the edges (`app.py`, `local/`, `bench/`, `tests/`; an
import-linter contract keeps it so); domain code receives what it needs through its constructor.
Nothing here decides anything: each attribute is one constructor call, and `subscriptions()` is the
one table of who reacts to which domain event, in what order, and why.

Importing `app.py` builds nothing: the first attribute read does (after the local stack or a test
has pointed the environment at moto). `reset()` drops the container's instance.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from chalicelib.core.bus import EventBus, Subscriptions
from chalicelib.core.events import (
    AgentAssigned,
    AgentReplied,
    CampaignRecipientChanged,
    ConversationEnded,
    ConversationRated,
    ConversationResolved,
    ConversationTransferred,
    DeliveryChanged,
    EscalatedOutOfHours,
    HandoffRequested,
    MessageStored,
    SlaBreached,
    TicketChanged,
    TicketCommented,
    TicketConfirmation,
)
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools import Logger, Metrics
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from chalicelib.agents.api import AgentsRest
    from chalicelib.agents.assist import ReplySuggester
    from chalicelib.agents.csat import CsatService
    from chalicelib.agents.relay import AgentRelay, DeskAlerts
    from chalicelib.agents.sweeps import Sweeps
    from chalicelib.agents.workspace import Workspace
    from chalicelib.analytics.api import MetricsApi, MetricsRest
    from chalicelib.analytics.archive import EventArchiver
    from chalicelib.analytics.emit import InteractionRecorder
    from chalicelib.analytics.kpis import KpiEngines
    from chalicelib.analytics.live import LiveCounters
    from chalicelib.analytics.publisher import InteractionPublisher
    from chalicelib.analytics.subscriber import InteractionSubscriber
    from chalicelib.auth.authenticator import AgentAuthenticator
    from chalicelib.auth.cognito import AgentTokenVerifier
    from chalicelib.bot.actions.dialogue import ActionDialogue
    from chalicelib.bot.api import KnowledgeBaseApi
    from chalicelib.bot.embedding_cache import S3EmbeddingCache
    from chalicelib.bot.kb import KnowledgeBaseStore
    from chalicelib.bot.listener import BotResponder
    from chalicelib.bot.misses import MissRecorder, MissStore
    from chalicelib.bot.misses_api import MissesApi
    from chalicelib.bot.serving import ModelProvider
    from chalicelib.bot.training import ModelRegistry, Trainer, TrainingQueue
    from chalicelib.chat.handler import ChatHandler
    from chalicelib.clients.api import GuestRest
    from chalicelib.clients.cors import CorsPolicy
    from chalicelib.clients.guest import GuestTokens
    from chalicelib.conversations.service import ConversationService
    from chalicelib.customers.access import CustomerAccess
    from chalicelib.customers.api import CustomersRest
    from chalicelib.customers.consent import ConsentStore
    from chalicelib.customers.privacy import PrivacyRights
    from chalicelib.customers.privacy_api import PrivacyRest
    from chalicelib.customers.service import CustomerService
    from chalicelib.effects.consumer import EffectsConsumer
    from chalicelib.effects.outbox import EffectsOutbox
    from chalicelib.i18n import Catalog, CustomerTexts
    from chalicelib.outbound.consumer import OutboundConsumer
    from chalicelib.outbound.listener import OutboundListener
    from chalicelib.outreach.api import OutreachRest
    from chalicelib.outreach.campaigns import Campaigns
    from chalicelib.outreach.consent import MarketingGate, OptOutListener, OptOutStore
    from chalicelib.outreach.contacts import ContactIndex
    from chalicelib.outreach.followups import FollowUps
    from chalicelib.outreach.initiate import Initiator
    from chalicelib.outreach.push import PushHook
    from chalicelib.outreach.reach import Reach
    from chalicelib.outreach.replies import ReplyTemplates, WindowFallback
    from chalicelib.outreach.sweep import OutreachSweep
    from chalicelib.outreach.templates import TemplateStore
    from chalicelib.realtime.notifier import Notifier
    from chalicelib.routing.consumer import EscalationConsumer
    from chalicelib.routing.publisher import EscalationPublisher
    from chalicelib.routing.service import RoutingService
    from chalicelib.routing.store import RoutingStore
    from chalicelib.secrets import Secrets
    from chalicelib.store.connection_store import ConnectionStore
    from chalicelib.store.conversation_store import ConversationStore
    from chalicelib.store.delivery_store import DeliveryStore
    from chalicelib.store.identity_store import IdentityStore
    from chalicelib.store.table import Table
    from chalicelib.tickets.loop import TicketLoop
    from chalicelib.tickets.service import TicketService
    from chalicelib.webhooks.inbound import ChannelSecrets, WebhookService
    from chalicelib.webhooks.limits import OriginalTexts
    from chalicelib.webhooks.replay import ReplayGuard
    from chalicelib.webhooks.rest import WebhooksRest


T = TypeVar("T")
_lock = threading.RLock()  # the local stack serves many "Lambdas" from threads of one process


class once(Generic[T]):
    """A cached property whose first computation is serialised (re-entrant: services build services)."""

    def __init__(self, build: Callable[[Any], T]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> once[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> once[T] | T:
        if obj is None:
            return self
        cache: dict[str, Any] = obj.__dict__
        if self._name not in cache:
            with _lock:
                if self._name not in cache:
                    cache[self._name] = self._build(obj)
        value: T = cache[self._name]
        return value


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[tuple[str, str | None], Any] = {}

    # -- AWS -------------------------------------------------------------------------------------

    @once
    def session(self) -> Any:  # noqa: ANN401 - boto3 ships no types; the typed accessors below narrow it
        import boto3

        return boto3.session.Session(region_name=self.settings.region)

    def client(self, service: str, endpoint: str | None = None) -> Any:  # noqa: ANN401 - see the typed accessors
        """One boto3 client per service (and endpoint) per container, with timeouts that fit Lambda."""
        key = (service, endpoint)
        if key not in self._clients:
            with _lock:
                if key not in self._clients:
                    self._clients[key] = self._new_client(service, endpoint)
        return self._clients[key]

    def _new_client(self, service: str, endpoint: str | None) -> Any:  # noqa: ANN401
        from botocore.config import Config

        if service == "apigatewaymanagementapi":
            # Short timeouts and one retry: fan-out must not stall on a dead peer (410 is never retried).
            config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=5)
        elif service == "kinesis":
            # On the customer's path (flushed at the end of the invocation): fail fast, retry little.
            config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 2})
        else:
            config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10,
                            tcp_keepalive=True)
        return self.session.client(service, endpoint_url=endpoint, config=config)

    def management_client(self, endpoint: str) -> ApiGatewayManagementApiClient:
        client: ApiGatewayManagementApiClient = self.client("apigatewaymanagementapi", endpoint)
        return client

    @property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self.client("dynamodb")
        return client

    @property
    def sqs(self) -> SQSClient:
        client: SQSClient = self.client("sqs")
        return client

    @property
    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    @property
    def kinesis(self) -> KinesisClient:
        client: KinesisClient = self.client("kinesis")
        return client

    @once
    def account_id(self) -> str:
        """This account's id (one STS GetCallerIdentity per container; needs no IAM permission)."""
        account: str = self.client("sts").get_caller_identity()["Account"]
        return account

    def resolve_placeholders(self, text: str) -> str:
        """`{account_id}` and `{region}` in a configured name (bucket names, S3 URLs) filled in."""
        if "{account_id}" in text:
            text = text.replace("{account_id}", self.account_id)
        return text.replace("{region}", self.settings.region)

    @once
    def bucket_name(self) -> str:
        return self.resolve_placeholders(self.settings.analytics_bucket_name)

    @once
    def secrets(self) -> Secrets:
        from chalicelib.secrets import Secrets

        return Secrets(prefix=self.settings.ssm_parameter_prefix, ssm_client_factory=lambda: self.client("ssm"))

    def queue_url(self, name: str) -> str:
        return self._queue_urls(name)

    @once
    def _queue_urls(self) -> Callable[[str], str]:
        import functools

        @functools.cache
        def lookup(name: str) -> str:
            url: str = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            return url

        return lookup

    @once
    def authenticator(self) -> AgentAuthenticator:
        from chalicelib.auth.authenticator import AgentAuthenticator

        return AgentAuthenticator(self.agent_verifier.verify)

    @once
    def agent_verifier(self) -> AgentTokenVerifier:
        """Agents' tokens: Cognito access tokens when COGNITO_USER_POOL_ID is configured, and HS256 JWTs."""
        import os

        from chalicelib.auth.cognito import AgentTokenVerifier, CognitoVerifier

        pool_id = self.secrets.get("COGNITO_USER_POOL_ID")
        cognito = None
        if pool_id:
            client_ids = [c.strip() for c in (self.secrets.get("COGNITO_CLIENT_IDS") or "").split(",")]
            # COGNITO_JWKS_URL: the local stack's moto serves the pool's keys at its own address
            cognito = CognitoVerifier(self.settings.region, pool_id, client_ids,
                                      jwks_url=os.environ.get("COGNITO_JWKS_URL") or None)
        return AgentTokenVerifier(lambda: self.secrets.require("AGENT_TOKEN_SECRET"), cognito)

    # -- observability ---------------------------------------------------------------------------

    @property
    def logger(self) -> Logger:
        from chalicelib.observability import logger

        return logger

    @property
    def metrics(self) -> Metrics:
        from chalicelib.observability import metrics

        return metrics

    # -- events ----------------------------------------------------------------------------------

    @once
    def bus(self) -> EventBus:
        from chalicelib.observability import subscriber_failed

        return EventBus(self.subscriptions, on_error=subscriber_failed)

    def subscriptions(self) -> Subscriptions:
        """Who reacts to what, in order. Observers first, then those that may answer the customer."""
        analytics = self.interaction_subscriber.on_event
        return {
            # run from the effects queue (process_effects), strictly: a failure retries the record,
            # and every subscriber here is idempotent per message id (event.redelivered says "maybe again")
            MessageStored: (
                # 0. every live connection of the conversation (the customer's other devices) gets it
                self.conversations.on_message_stored,
                # 1. interaction events (message_in/out, bot_decision, the bot's handoff)
                self.interaction_subscriber.on_message_stored,
                # 2. the assigned agent sees every message; the conversation's idle clock moves
                self.agent_relay.on_message,
                # issue 16: the customer wrote (contact index for segments; follow-ups scheduled before
                # are cancelled; a campaign's reply is counted), then an opt-out keyword is recorded,
                # confirmed and CONSUMED (the bot does not answer "STOP")
                self.contact_index.on_message,
                self.followups.on_message,
                self.campaigns.on_message,
                self.opt_out_listener.on_message,
                # 3. a bare "4" or a quick-reply postback answering a pending survey is CONSUMED here:
                #    it is not a question for the bot (which would answer it with a fallback)
                self.csat.on_message,
                # 3b. (issue 16) "solved" / "没有解决" answering "is your problem solved?" is CONSUMED too
                self.ticket_loop.on_message,
                # 4. the bot answers customer messages (its reply is a new MessageStored, queued)
                self.bot_responder.on_message,
                # 5. bot, agent and system messages go out on the customer's social channel
                self.outbound_listener.on_message,
                # 6. issue 14: fallbacks, unpicked suggestions, handoffs and agents' answers become misses
                self.miss_recorder.on_message_stored,
            ),
            HandoffRequested: (analytics, self.miss_recorder.on_handoff_requested),
            # out of hours, the escalation becomes a ticket for the next shift
            EscalatedOutOfHours: (self.tickets.on_escalated_out_of_hours,),
            AgentAssigned: (analytics,),
            AgentReplied: (analytics,),
            ConversationTransferred: (analytics,),
            # issue 16: "Is your problem solved?" N days later
            ConversationResolved: (analytics, self.followups.on_resolved),
            ConversationEnded: (analytics,),
            ConversationRated: (analytics,),
            # issue 16: what happens to a ticket reaches its customer (after analytics has seen it); a reminder
            # while a ticket waits on the customer, cancelled when it moves on
            TicketChanged: (analytics, self.ticket_loop.on_ticket_changed, self.followups.on_ticket_changed),
            SlaBreached: (analytics,),
            TicketCommented: (self.ticket_loop.on_ticket_commented,),
            TicketConfirmation: (analytics,),
            # issue 16: a campaign's delivery report in the analytics stream (receipts and failures of its messages)
            DeliveryChanged: (self.campaigns.on_delivery_changed,),
            CampaignRecipientChanged: (analytics,),
        }

    # -- chat (WebSocket), conversations ---------------------------------------------------------

    @once
    def table(self) -> Table:
        """The single table, through the persistence base (the only DynamoDB caller)."""
        from chalicelib.store.table import Table

        return Table(self.dynamodb, self.settings.table_name)

    @once
    def conversation_store(self) -> ConversationStore:
        from chalicelib.store.conversation_store import ConversationStore

        retention = self.settings.message_retention_days * 86400 or None
        return ConversationStore(self.table, retention)

    @once
    def connection_store(self) -> ConnectionStore:
        from chalicelib.store.connection_store import ConnectionStore

        return ConnectionStore(self.table, self.settings.connection_ttl_seconds)

    @once
    def notifier(self) -> Notifier:
        from chalicelib.chat.push import Pusher
        from chalicelib.realtime.notifier import Notifier

        return Notifier(Pusher(self.management_client), self.connection_store)

    @once
    def conversations(self) -> ConversationService:
        from chalicelib.conversations.service import ConversationService

        return ConversationService(self.conversation_store, self.connection_store, self.notifier,
                                   self.effects_outbox)

    @once
    def effects_outbox(self) -> EffectsOutbox:
        """A stored message's effects, scheduled on the FIFO effects queue (chalicelib/effects)."""
        from chalicelib.effects.outbox import EffectsOutbox

        return EffectsOutbox(self.sqs, lambda: self.queue_url(self.settings.effects_queue_name))

    @once
    def effects_consumer(self) -> EffectsConsumer:
        from chalicelib.effects.consumer import EffectsConsumer
        from chalicelib.effects.progress import EffectsProgress

        return EffectsConsumer(self.bus, EffectsProgress(self.table), self.conversation_store.mark_effects_done,
                               self.metrics)

    @once
    def catalog(self) -> Catalog:
        from chalicelib.i18n import Catalog

        return Catalog(self.settings.default_language)

    @once
    def customer_texts(self) -> CustomerTexts:
        """What the platform says to a customer, in the language of their conversation."""
        from chalicelib.i18n import CustomerTexts, LanguageResolver

        return CustomerTexts(self.catalog, LanguageResolver(self.conversations, self.catalog.languages,
                                                            self.catalog.default_language))

    @once
    def chat(self) -> ChatHandler:
        from chalicelib.agents.ws import agent_frame_handlers
        from chalicelib.chat.extension import combine
        from chalicelib.chat.handler import ChatHandler
        from chalicelib.customers.ws import customer_consent_frames
        from chalicelib.tickets.ws import customer_ticket_frames

        extension = combine(agent_frame_handlers(self.workspace), customer_ticket_frames(self.ticket_loop),
                            customer_consent_frames(self.consent))  # the last two: issue 16
        return ChatHandler(self.settings, self.conversations, self.connection_store, self.notifier,
                           self.secrets.require, self.metrics, self.agent_verifier.verify, extension)

    # -- analytics (interaction stream, archive, KPIs) -------------------------------------------

    @once
    def interaction_publisher(self) -> InteractionPublisher:
        """Pseudonym key = secret PSEUDONYM_KEY (a missing key fails here, inside the recorder's flush)."""
        from chalicelib.analytics.publisher import InteractionPublisher

        return InteractionPublisher(self.kinesis, self.settings.interactions_stream_name,
                                    self.secrets.require("PSEUDONYM_KEY"), metrics=self.metrics, logger=self.logger)

    @once
    def recorder(self) -> InteractionRecorder:
        from chalicelib.analytics.emit import InteractionRecorder

        return InteractionRecorder(lambda: self.interaction_publisher, lambda: self.live_counters)

    @once
    def interaction_subscriber(self) -> InteractionSubscriber:
        from chalicelib.analytics.subscriber import InteractionSubscriber

        return InteractionSubscriber(self.recorder.emit, self.conversation_store.get_conversation)

    @once
    def live_counters(self) -> LiveCounters:
        from chalicelib.analytics.live import LiveCounters

        return LiveCounters(self.table)

    @once
    def archiver(self) -> EventArchiver:
        from chalicelib.analytics.archive import EventArchiver

        return EventArchiver(self.s3, self.bucket_name, logger=self.logger, metrics=self.metrics)

    @once
    def kpi_engines(self) -> KpiEngines:
        from chalicelib.analytics.kpis import KpiEngines

        return KpiEngines(self.settings, s3=lambda: self.s3, athena=lambda: self.client("athena"),
                          bucket=lambda: self.bucket_name, resolve=self.resolve_placeholders)

    @once
    def metrics_api(self) -> MetricsApi:
        from chalicelib.analytics.api import MetricsApi

        return MetricsApi(self.authenticator, self.live_counters, self.kpi_engines.create,
                          self.routing_store.queue_stats)

    # -- bot (knowledge base, retraining, live model, dialogue policy) ---------------------------

    @once
    def kb_store(self) -> KnowledgeBaseStore:
        from chalicelib.bot.kb import KnowledgeBaseStore

        return KnowledgeBaseStore(self.table)

    @once
    def training_queue(self) -> TrainingQueue:
        from chalicelib.bot.training import TrainingQueue

        return TrainingQueue(self.sqs, self.settings.training_queue_name)

    @once
    def model_registry(self) -> ModelRegistry:
        from chalicelib.bot.training import ModelRegistry

        return ModelRegistry(self.table, self.s3,
                             lambda: self.bucket_name)

    @once
    def trainer(self) -> Trainer:
        from chalicelib.bot.training import Trainer

        return Trainer(self.kb_store, self.model_registry, self.embedding_cache, continuation=self.training_queue)

    @once
    def model_provider(self) -> ModelProvider:
        """The live model of this container: loaded on first use, pointer re-read every BOT_MODEL_REFRESH_SECONDS."""
        from chalicelib.bot.serving import ModelProvider

        return ModelProvider(self.model_registry, self.settings.model_refresh_seconds)

    @property
    def kb_rest(self) -> KnowledgeBaseApi:
        return self.kb_api

    @once
    def kb_api(self) -> KnowledgeBaseApi:
        from chalicelib.bot.api import KnowledgeBaseApi

        return KnowledgeBaseApi(self.kb_store, self.training_queue, self.authenticator, self.model_registry.pointer)

    @once
    def bot_responder(self) -> BotResponder:
        from chalicelib.bot.listener import BotResponder, BotState
        from chalicelib.bot.policy import DialoguePolicy, PolicyConfig

        return BotResponder(self.conversations, BotState(self.table),
                            DialoguePolicy(PolicyConfig.from_env(), self.catalog), self.model_provider.current,
                            self.escalations.publish, enabled=self.settings.bot_enabled,
                            actions=self.action_dialogue)

    # -- human agents: routing, workspace, tickets, CSAT -----------------------------------------

    @once
    def routing_store(self) -> RoutingStore:
        from chalicelib.routing.store import RoutingStore

        return RoutingStore(self.table)

    @once
    def escalations(self) -> EscalationPublisher:
        """`escalations.publish(EscalationRequest(...))` puts one on the SQS queue."""
        from chalicelib.routing.publisher import EscalationPublisher

        return EscalationPublisher(self.sqs, self.settings.escalation_queue_name)

    @once
    def desk_alerts(self) -> DeskAlerts:
        from chalicelib.agents.relay import DeskAlerts

        return DeskAlerts(self.routing_store, self.notifier)

    @once
    def tickets(self) -> TicketService:
        from chalicelib.tickets.service import TicketService
        from chalicelib.tickets.store import TicketStore

        return TicketService(TicketStore(self.table),
                             self.routing_store.get_config, self.desk_alerts.send, self.bus.publish)

    @once
    def routing(self) -> RoutingService:
        from chalicelib.routing.service import RoutingService

        return RoutingService(self.routing_store, self.conversations, self.notifier, self.bus.publish,
                              self.customer_texts)

    @once
    def csat(self) -> CsatService:
        from chalicelib.agents.csat import CsatService

        return CsatService(self.table, self.conversations, self.routing_store, self.bus.publish,
                           self.customer_texts)

    @once
    def suggester(self) -> ReplySuggester:
        from chalicelib.agents.assist import ReplySuggester

        return ReplySuggester(self.model_provider.current)

    @once
    def workspace(self) -> Workspace:
        from chalicelib.agents.workspace import Workspace

        return Workspace(self.routing, self.conversations, self.csat, self.tickets, self.escalations.publish,
                         self.identity_store, self.bus.publish, suggest=self.suggester.suggest,
                         templates=self.reply_templates,
                         recent_orders=self.action_dialogue.recent_orders)

    @once
    def agent_relay(self) -> AgentRelay:
        from chalicelib.agents.relay import AgentRelay

        return AgentRelay(self.routing_store, self.notifier)

    # -- channels (social webhooks, unified identity, outbound delivery) -------------------------

    @once
    def identity_store(self) -> IdentityStore:
        from chalicelib.store.identity_store import IdentityStore

        return IdentityStore(self.table)

    @once
    def delivery_store(self) -> DeliveryStore:
        from chalicelib.store.delivery_store import DeliveryStore

        return DeliveryStore(self.table)

    @once
    def channel_secrets(self) -> ChannelSecrets:
        from chalicelib.webhooks.inbound import ChannelSecrets

        return ChannelSecrets(self.secrets)

    @once
    def webhooks(self) -> WebhookService:
        from chalicelib.webhooks.inbound import WebhookService

        return WebhookService(self.channel_secrets, self.identity_store, self.delivery_store, self.conversations,
                              self.metrics, self.inbound_originals, self.webhook_replay_guard, self.bus.publish)

    @once
    def inbound_originals(self) -> OriginalTexts:
        """Full texts of inbound messages stored capped (issue 13), in the analytics bucket."""
        from chalicelib.webhooks.limits import OriginalTexts

        return OriginalTexts(self.s3, self.bucket_name)

    @once
    def webhook_replay_guard(self) -> ReplayGuard:
        from chalicelib.webhooks.replay import NonceStore, ReplayGuard

        return ReplayGuard(NonceStore(self.table))

    @once
    def outbound_listener(self) -> OutboundListener:
        from chalicelib.outbound import queue_name
        from chalicelib.outbound.listener import OutboundListener

        return OutboundListener(self.delivery_store, self.conversation_store, self.sqs,
                                lambda: self.queue_url(queue_name()), self.metrics)

    @once
    def outbound_consumer(self) -> OutboundConsumer:
        from chalicelib.channels.http import ChannelSender
        from chalicelib.outbound import queue_name
        from chalicelib.outbound.consumer import OutboundConsumer

        return OutboundConsumer(self.delivery_store, ChannelSender(), self.channel_secrets, self.sqs,
                                self.queue_url, f"{queue_name()}-dlq", self.notifier, self.metrics,
                                fallback=self.window_fallback, publish=self.bus.publish)

    @once
    def customers(self) -> CustomerService:
        from chalicelib.customers.service import CustomerService

        return CustomerService(self.identity_store, self.conversation_store)

    @once
    def escalation_consumer(self) -> EscalationConsumer:
        from chalicelib.routing.consumer import EscalationConsumer

        return EscalationConsumer(self.routing)

    @once
    def sweeps(self) -> Sweeps:
        from chalicelib.agents.sweeps import Sweeps

        return Sweeps(self.routing, self.tickets, self.workspace)

    # -- clients (issue 10): guest tokens for the chat widget, CORS for the routes browsers call ---

    @once
    def guest_tokens(self) -> GuestTokens:
        from chalicelib.clients.guest import GuestSettings, GuestTokens

        return GuestTokens(self.table, self.secrets.require, GuestSettings.from_env())

    @once
    def cors_policy(self) -> CorsPolicy:
        from chalicelib.clients.cors import CorsPolicy

        return CorsPolicy.from_env()

    @once
    def guest_rest(self) -> GuestRest:
        from chalicelib.clients.api import GuestRest

        return GuestRest(self.guest_tokens, self.cors_policy)

    # -- REST edges ------------------------------------------------------------------------------

    @once
    def agents_rest(self) -> AgentsRest:
        from chalicelib.agents.api import AgentsRest

        return AgentsRest(self.workspace, self.routing_store, self.routing, self.tickets, self.authenticator)

    @once
    def customers_rest(self) -> CustomersRest:
        from chalicelib.customers.api import CustomersRest

        return CustomersRest(self.customers, self.customer_access, self.authenticator)

    @once
    def customer_access(self) -> CustomerAccess:
        """Who may read a customer, and the audit of every read (issue 13)."""
        from chalicelib.customers.access import AccessAudit, CustomerAccess

        return CustomerAccess(self.routing_store, self.conversation_store, self.identity_store,
                              AccessAudit(self.table))

    @once
    def metrics_rest(self) -> MetricsRest:
        from chalicelib.analytics.api import MetricsRest

        return MetricsRest(self.metrics_api)

    @once
    def webhooks_rest(self) -> WebhooksRest:
        from chalicelib.webhooks.rest import WebhooksRest

        return WebhooksRest(self.webhooks)

    # -- issue 16: the ticket loop with the customer, privacy rights, marketing consent -----------

    @once
    def consent(self) -> ConsentStore:
        """Marketing consent per customer and channel: `may_market(customer, channel)`, `record(...)`."""
        from chalicelib.customers.consent import ConsentStore

        return ConsentStore(self.table)

    @once
    def ticket_loop(self) -> TicketLoop:
        from chalicelib.tickets.loop import TicketLoop

        return TicketLoop(self.tickets, self.conversations, self.delivery_store, self.table, self.customer_texts,
                          self.bus.publish)

    @once
    def privacy(self) -> PrivacyRights:
        from chalicelib.analytics.redact import redact_text
        from chalicelib.customers.privacy import PrivacyRights

        return PrivacyRights(self.table, self.tickets.store, self.consent, lambda: self.s3, lambda: self.bucket_name,
                             lambda: self.secrets.require("PSEUDONYM_KEY"), redact_text)

    @once
    def privacy_rest(self) -> PrivacyRest:
        from chalicelib.customers.privacy_api import PrivacyRest

        return PrivacyRest(self.privacy, self.consent, self.customer_access, self.authenticator)

    # -- outreach (issue 16): templates, agent-initiated conversations, follow-ups, campaigns ------

    @once
    def templates(self) -> TemplateStore:
        from chalicelib.outreach.templates import TemplateStore

        return TemplateStore(self.table)

    def customer_name(self, customer_id: str) -> str | None:
        customer = self.conversation_store.get_customer(customer_id)
        return customer.name if customer else None

    @once
    def reach(self) -> Reach:
        from chalicelib.outreach.reach import Reach

        return Reach(self.conversations, self.delivery_store, self.identity_store, self.templates,
                     self.customer_texts.languages, self.catalog)

    @once
    def reply_templates(self) -> ReplyTemplates:
        from chalicelib.outreach.replies import ReplyTemplates

        return ReplyTemplates(self.templates, self.delivery_store, self.customer_texts.languages.for_conversation,
                              self.customer_name, self.catalog)

    @once
    def window_fallback(self) -> WindowFallback:
        from chalicelib.outreach.replies import WindowFallback

        return WindowFallback(self.templates, self.customer_texts.languages.for_conversation, self.customer_name,
                              self.catalog)

    @once
    def push_hook(self) -> PushHook:
        from chalicelib.outreach.push import PushHook

        return PushHook(self.secrets.get)

    @once
    def initiator(self) -> Initiator:
        from chalicelib.outreach.initiate import Initiator

        return Initiator(self.reach, self.routing_store, self.connection_store, self.push_hook)

    @once
    def opt_outs(self) -> OptOutStore:
        from chalicelib.outreach.consent import OptOutStore

        return OptOutStore(self.table)

    @once
    def marketing_gate(self) -> MarketingGate:
        """Opt-outs, plus the privacy domain's consent records (`ConsentStore` is a `MarketingConsent`)."""
        from chalicelib.outreach.consent import MarketingGate

        return MarketingGate(self.opt_outs, self.consent)

    @once
    def opt_out_listener(self) -> OptOutListener:
        from chalicelib.outreach.consent import OptOutListener

        return OptOutListener(self.opt_outs, self.conversations, self.catalog,
                              self.customer_texts.languages.for_conversation)

    @once
    def contact_index(self) -> ContactIndex:
        from chalicelib.outreach.contacts import ContactIndex

        return ContactIndex(self.table)

    @once
    def followups(self) -> FollowUps:
        from chalicelib.outreach import followup_queue_name
        from chalicelib.outreach.followups import FollowUps, FollowUpSettings, FollowUpStore

        return FollowUps(FollowUpStore(self.table), self.reach, self.sqs,
                         lambda: self.queue_url(followup_queue_name()), FollowUpSettings.from_env(), self.metrics)

    @once
    def campaigns(self) -> Campaigns:
        from chalicelib.outreach import campaign_queue_name
        from chalicelib.outreach.campaigns import Campaigns, CampaignStore, SendRate

        return Campaigns(CampaignStore(self.table), SendRate(self.table), self.contact_index, self.marketing_gate,
                         self.templates, self.reach, self.delivery_store, self.sqs,
                         lambda: self.queue_url(campaign_queue_name()), self.metrics, self.bus.publish)

    @once
    def outreach_sweep(self) -> OutreachSweep:
        from chalicelib.outreach.sweep import OutreachSweep

        return OutreachSweep(self.followups, self.campaigns)

    @once
    def outreach_rest(self) -> OutreachRest:
        from chalicelib.outreach.api import OutreachRest

        return OutreachRest(self.templates, self.initiator, self.campaigns, self.followups.store, self.opt_outs,
                            self.authenticator)

    # -- issue 14: bot actions with slots (the company's API answers order / logistics / refund intents) --

    @once
    def action_dialogue(self) -> ActionDialogue:
        """Slots, the signed call (2 s, bounded retries) and the per-endpoint breaker (chalicelib/bot/actions)."""
        import os

        from chalicelib.bot.actions.breaker import CircuitBreaker
        from chalicelib.bot.actions.client import ActionClient
        from chalicelib.bot.actions.dialogue import ActionConfig, ActionDialogue, ActionDirectory
        from chalicelib.bot.actions.state import SlotStateStore

        env = os.environ
        breaker = CircuitBreaker(self.table, threshold=int(env.get("ACTION_BREAKER_THRESHOLD") or 5),
                                 cooldown_ms=int(float(env.get("ACTION_BREAKER_COOLDOWN_SECONDS") or 30) * 1000))
        store = self.conversation_store

        def recent_customer_texts(conversation_id: str, limit: int) -> list[str]:
            messages, _ = store.list_messages(conversation_id, limit=limit)
            return [m.text for m in reversed(messages) if m.sender.type == "customer" and m.text]

        def channel_identity(customer_id: str, channel: str) -> str | None:
            return next((i.external_id for i in self.identity_store.for_customer(customer_id)
                         if i.channel == channel), None)

        kb = self.kb_store
        directory = ActionDirectory(lambda: kb.version(consistent=False), kb.actions)
        return ActionDialogue(directory, ActionClient(self.secrets.get, breaker),
                              SlotStateStore(self.table, int(env.get("ACTION_SLOT_TTL_SECONDS") or 1800)),
                              recent_customer_texts, channel_identity, self.catalog, ActionConfig.from_env())

    # -- issue 14: learning from misses; incremental training --------------------------------------

    @once
    def embedding_cache(self) -> S3EmbeddingCache:
        """Sentence vectors of KB texts by content hash, in the models bucket: a retrain embeds only what changed."""
        from chalicelib.bot.embedding_cache import S3EmbeddingCache

        return S3EmbeddingCache(self.s3, lambda: self.bucket_name)

    @once
    def miss_store(self) -> MissStore:
        from chalicelib.bot.misses import MissStore

        return MissStore(self.table)

    @once
    def miss_recorder(self) -> MissRecorder:
        from chalicelib.bot.misses import MissRecorder

        def recent(conversation_id: str, limit: int) -> list[Any]:
            return self.conversation_store.list_messages(conversation_id, limit=limit)[0]

        def kb_intents() -> dict[str, Any]:
            live = self.model_provider.current()
            intents: dict[str, Any] = live.kb.get("intents", {}) if live is not None else {}
            return intents

        return MissRecorder(self.miss_store, recent, kb_intents)

    @once
    def misses_rest(self) -> MissesApi:
        from chalicelib.bot.misses import miss_vectors
        from chalicelib.bot.misses_api import MissesApi

        return MissesApi(self.authenticator, self.miss_store, miss_vectors, self.kb_store, self.training_queue)


_instance: Services | None = None


def services() -> Services:
    """This container's services (built on first use from the environment)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = Services(Settings.from_env())
    return _instance


def reset() -> None:
    """Forget this container's services (tests, the local stack after pointing the environment at moto)."""
    global _instance
    with _lock:
        _instance = None
