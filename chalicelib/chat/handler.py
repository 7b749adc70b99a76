"""The WebSocket chat endpoint: `$connect`, `$disconnect` and client frames.

Bad input never escapes as an exception (API Gateway would turn it into "Internal server error"):
every frame gets either its answer or an `error` frame, and the socket stays usable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import ids
from chalicelib.auth import tokens
from chalicelib.chat import frames
from chalicelib.chat.push import Pusher, management_endpoint
from chalicelib.conversations.models import MessageDraft, Sender
from chalicelib.conversations.service import ConversationService
from chalicelib.errors import ConnectionGone, DomainError
from chalicelib.settings import Settings
from chalicelib.store.connection_store import Connection, ConnectionStore
from chalicelib.store.conversation_store import AppendResult, DedupKey

logger = Logger(child=True)

CUSTOMER_CHANNELS = {"app", "miniprogram", "web"}


@dataclass(frozen=True)
class ConnectResult:
    status: int
    body: dict[str, Any] | None = None


class ChatHandler:
    def __init__(self, settings: Settings, service: ConversationService, connections: ConnectionStore,
                 pusher: Pusher, secret: Callable[[str], str], metrics: Metrics,
                 verify_agent: Callable[[str | None], tokens.AgentClaims] | None = None) -> None:
        self._settings = settings
        # agents' tokens: HS256 with AGENT_TOKEN_SECRET unless a verifier (e.g. Cognito as well) is given
        self._verify_agent = verify_agent or (lambda token: tokens.verify_agent(token, secret("AGENT_TOKEN_SECRET")))
        self._service = service
        self._connections = connections
        self._pusher = pusher
        self._secret = secret
        self._metrics = metrics
        self._handlers: dict[type, Callable[[Connection, Any, str], None]] = {
            frames.SendMessage: self._send_message,
            frames.History: self._history,
            frames.Ping: lambda connection, frame, endpoint: self._reply(endpoint, connection.connection_id,
                                                                         {"type": "pong"}),
        }

    def register(self, frame_type: type, handler: Callable[[Connection, Any, str], None]) -> None:
        """Add a frame handler from another domain (agents register theirs)."""
        self._handlers[frame_type] = handler

    # -- agents (routing domain) -------------------------------------------------------------
    # An agent connects with `?token=<agent JWT>&as=agent`. `agent_gate` may refuse the claims by
    # raising a DomainError (e.g. an unregistered agent); `on_disconnect` hooks see the closed
    # connection (the agents domain marks an agent offline when their last socket closes).

    agent_gate: Callable[[tokens.AgentClaims], None] | None = None
    disconnect_hooks: tuple[Callable[[Connection], None], ...] = ()

    def on_disconnect(self, hook: Callable[[Connection], None]) -> None:
        self.disconnect_hooks = (*self.disconnect_hooks, hook)

    def _connect_agent(self, connection_id: str, context: Mapping[str, Any], token: str | None) -> ConnectResult:
        try:
            claims = self._verify_agent(token)
            if self.agent_gate is not None:
                self.agent_gate(claims)
        except DomainError as exc:
            self._metrics.add_metric(name="ConnectionsRefused", unit=MetricUnit.Count, value=1)
            logger.info("agent connection refused", extra={"reason": exc.code})
            return ConnectResult(exc.status, exc.to_dict())
        self._connections.put(Connection(
            connection_id=connection_id, owner_type="agent", owner_id=claims.sub, role=claims.role, name=claims.name,
            endpoint=management_endpoint(context, self._settings.region, self._settings.websocket_management_endpoint),
            connected_ms=ids.now_ms(),
        ))
        logger.append_keys(agent_id=claims.sub)
        self._metrics.add_metric(name="AgentConnections", unit=MetricUnit.Count, value=1)
        return ConnectResult(200)

    # -- lifecycle ---------------------------------------------------------------------------

    def connect(self, event: Mapping[str, Any]) -> ConnectResult:
        context = event["requestContext"]
        connection_id = context["connectionId"]
        query = event.get("queryStringParameters") or {}
        logger.append_keys(connection_id=connection_id)
        if query.get("as") == "agent":
            return self._connect_agent(connection_id, context, query.get("token"))
        try:
            claims = tokens.verify_customer(query.get("token"), self._secret("CUSTOMER_TOKEN_SECRET"))
        except DomainError as exc:
            self._metrics.add_metric(name="ConnectionsRefused", unit=MetricUnit.Count, value=1)
            logger.info("connection refused", extra={"reason": exc.code})
            return ConnectResult(exc.status, exc.to_dict())
        channel = query.get("channel") or "app"
        if channel not in CUSTOMER_CHANNELS:
            return ConnectResult(400, {"code": "invalid_channel",
                                       "message": f"channel must be one of {sorted(CUSTOMER_CHANNELS)}"})
        self._service.store.upsert_customer(claims.sub, name=claims.name, vip=claims.vip)
        connection = Connection(
            connection_id=connection_id, owner_type="customer", owner_id=claims.sub,
            endpoint=management_endpoint(context, self._settings.region,
                                         self._settings.websocket_management_endpoint),
            connected_ms=ids.now_ms(), conversation_id=self._service.store.open_conversation_id(claims.sub),
            name=claims.name, vip=claims.vip, channel=channel,
        )
        self._connections.put(connection)
        logger.append_keys(customer_id=claims.sub, conversation_id=connection.conversation_id)
        self._metrics.add_metric(name="Connections", unit=MetricUnit.Count, value=1)
        return ConnectResult(200)

    def disconnect(self, event: Mapping[str, Any]) -> None:
        connection_id = event["requestContext"]["connectionId"]
        logger.append_keys(connection_id=connection_id)
        gone = self._connections.get(connection_id) if self.disconnect_hooks else None
        self._connections.delete(connection_id)
        for hook in self.disconnect_hooks if gone is not None else ():
            try:
                hook(gone)
            except Exception:  # a hook's failure must not fail the disconnect
                logger.exception("disconnect hook failed")

    # -- frames ------------------------------------------------------------------------------

    def handle_frame(self, event: Mapping[str, Any]) -> None:
        context = event["requestContext"]
        connection_id = context["connectionId"]
        endpoint = management_endpoint(context, self._settings.region, self._settings.websocket_management_endpoint)
        logger.append_keys(connection_id=connection_id)
        connection = self._connections.get(connection_id)
        if connection is None:
            self._reply(endpoint, connection_id, frames.error(
                "not_connected", "this connection is not registered; reconnect"))
            return
        logger.append_keys(customer_id=connection.owner_id, conversation_id=connection.conversation_id)
        frame = None
        try:
            frame = frames.parse_frame(event.get("body"))
            handler = self._handlers.get(type(frame))
            if handler is None:
                raise frames.FrameError("unknown_action", f"action {frame.action!r} is not available here")
            handler(connection, frame, endpoint)
        except frames.FrameError as exc:
            self._metrics.add_metric(name="FramesRejected", unit=MetricUnit.Count, value=1)
            logger.info("frame rejected", extra={"code": exc.code})
            self._reply(endpoint, connection_id, frames.error(exc.code, exc.message, exc.client_msg_id, exc.details))
        except DomainError as exc:
            client_msg_id = getattr(frame, "client_msg_id", None)
            self._reply(endpoint, connection_id, frames.error(exc.code, exc.message, client_msg_id, exc.details))

    def _send_message(self, connection: Connection, frame: frames.SendMessage, endpoint: str) -> None:
        if connection.owner_type != "customer":
            raise frames.FrameError("unknown_action", "agents reply with the agent actions", frame.client_msg_id)
        draft = MessageDraft(sender=Sender(type="customer", id=connection.owner_id, name=connection.name),
                             channel=connection.channel or "app", text=frame.text, client_msg_id=frame.client_msg_id)

        def acknowledge(result: AppendResult) -> None:
            message = result.message
            logger.append_keys(conversation_id=message.conversation_id)
            self._reply(endpoint, connection.connection_id, frames.ack(
                frame.client_msg_id, message.message_id, message.seq, message.ts, message.conversation_id,
                duplicate=result.duplicate))

        result = self._service.post_from_customer(
            connection.owner_id, draft, DedupKey(f"client#{connection.owner_id}", frame.client_msg_id),
            conversation_hint=connection.conversation_id, exclude_connection=connection.connection_id,
            acknowledge=acknowledge,
        )
        name = "DuplicateMessages" if result.duplicate else "MessagesReceived"
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if result.message.conversation_id != connection.conversation_id and not result.duplicate:
            self._connections.attach(connection.connection_id, result.message.conversation_id)

    def _history(self, connection: Connection, frame: frames.History, endpoint: str) -> None:
        conversation_id, messages, has_more = self._service.history(
            connection.owner_id, frame.conversation_id, after_seq=frame.after_seq, before_seq=frame.before_seq,
            limit=min(frame.limit, self._settings.history_page_max))
        self._reply(endpoint, connection.connection_id,
                    frames.history([m.public_view() for m in messages], has_more, conversation_id))

    def _reply(self, endpoint: str, connection_id: str, frame: dict[str, Any]) -> None:
        try:
            self._pusher.send(endpoint, connection_id, frame)
        except ConnectionGone:
            self._connections.delete(connection_id)
