"""The WebSocket chat endpoint: `$connect`, `$disconnect` and client frames.

Bad input never escapes as an exception (API Gateway would turn it into "Internal server error"):
every frame gets either its answer or an `error` frame, and the socket stays usable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import ids
from chalicelib.auth import tokens
from chalicelib.chat.extension import FrameExtension, FrameHandler
from chalicelib.chat.push import management_endpoint
from chalicelib.core.channels import SOCKET_CHANNELS
from chalicelib.core.models import AppendResult, DedupKey, MessageDraft, Sender
from chalicelib.errors import DomainError
from chalicelib.realtime import frames
from chalicelib.store import keys
from chalicelib.store.connection_store import Connection, ConnectionStore

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from chalicelib.conversations.service import ConversationService
    from chalicelib.realtime.notifier import Notifier
    from chalicelib.settings import Settings

logger = Logger(child=True)



@dataclass(frozen=True)
class ConnectResult:
    status: int
    body: dict[str, Any] | None = None


class ChatHandler:
    def __init__(self, settings: Settings, service: ConversationService, connections: ConnectionStore,
                 notifier: Notifier, secret: Callable[[str], str], metrics: Metrics,
                 verify_agent: Callable[[str | None], tokens.AgentClaims], extension: FrameExtension | None = None,
                 ) -> None:
        self._settings = settings
        self._verify_agent = verify_agent  # Cognito access tokens and company-issued HS256 JWTs
        self._service = service
        self._connections = connections
        self._notifier = notifier
        self._secret = secret
        self._metrics = metrics
        self._extension = extension or FrameExtension()
        self._models = {**frames.CLIENT_FRAMES, **self._extension.models}
        self._handlers: dict[type[frames.Frame], FrameHandler] = {
            frames.History: self._history,
            frames.Ping: lambda connection, frame: frames.pong(),
            **self._extension.handlers,
        }

    # -- agents (routing domain) -------------------------------------------------------------
    # An agent connects with `?token=<agent JWT>&as=agent`. The extension's `agent_gate` may refuse
    # the claims by raising a DomainError (e.g. an unregistered agent); when an agent's last socket
    # closes, its `agent_offline` runs (the agents domain marks them offline).

    def _connect_agent(self, connection_id: str, context: Mapping[str, Any], token: str | None) -> ConnectResult:
        try:
            claims = self._verify_agent(token)
            self._extension.agent_gate(claims)
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
        if channel not in SOCKET_CHANNELS:
            return ConnectResult(400, {"code": "invalid_channel",
                                       "message": f"channel must be one of {sorted(SOCKET_CHANNELS)}"})
        self._service.upsert_customer(claims.sub, name=claims.name, vip=claims.vip)
        connection = Connection(
            connection_id=connection_id, owner_type="customer", owner_id=claims.sub,
            endpoint=management_endpoint(context, self._settings.region,
                                         self._settings.websocket_management_endpoint),
            connected_ms=ids.now_ms(), conversation_id=self._service.open_conversation_id(claims.sub),
            name=claims.name, vip=claims.vip, channel=channel,
        )
        self._connections.put(connection)
        logger.append_keys(customer_id=claims.sub, conversation_id=connection.conversation_id)
        self._metrics.add_metric(name="Connections", unit=MetricUnit.Count, value=1)
        return ConnectResult(200)

    def disconnect(self, event: Mapping[str, Any]) -> None:
        connection_id = event["requestContext"]["connectionId"]
        logger.append_keys(connection_id=connection_id)
        gone = self._connections.get(connection_id)
        self._connections.delete(connection_id)
        if gone is None or gone.owner_type != "agent" or self._connections.for_owner("agent", gone.owner_id):
            return
        try:
            self._extension.agent_offline(gone.owner_id)
        except Exception:  # the hook's failure must not fail the disconnect
            logger.exception("agent offline hook failed")

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
            frame = frames.parse_frame(event.get("body"), self._models)
            if isinstance(frame, frames.SendMessage):
                self._send_message(connection, frame, endpoint)
                return
            handler = self._handlers.get(type(frame))
            if handler is None:
                raise frames.FrameError("unknown_action", f"action {frame.action!r} is not available here")
            answer = handler(connection, frame)
            if answer is not None:
                self._reply(endpoint, connection_id, answer)
        except frames.FrameError as exc:
            self._metrics.add_metric(name="FramesRejected", unit=MetricUnit.Count, value=1)
            logger.info("frame rejected", extra={"code": exc.code})
            self._reply(endpoint, connection_id, frames.error(exc.code, exc.message, exc.client_msg_id, exc.details))
        except DomainError as exc:
            client_msg_id = getattr(frame, "client_msg_id", None)
            self._reply(endpoint, connection_id, frames.error(exc.code, exc.message, client_msg_id, exc.details))
        except Exception:  # an outage (throttling, timeouts): the client may send the same frame again
            client_msg_id = getattr(frame, "client_msg_id", None)
            logger.exception("frame failed", extra={"client_msg_id": client_msg_id})
            self._metrics.add_metric(name="FramesFailed", unit=MetricUnit.Count, value=1)
            self._reply(endpoint, connection_id, frames.error(
                "unavailable", "the service could not handle this now; send it again shortly", client_msg_id,
                retryable=True))

    def _send_message(self, connection: Connection, frame: frames.SendMessage, endpoint: str) -> None:
        if connection.owner_type != "customer":
            raise frames.FrameError("unknown_action", "agents reply with the agent actions", frame.client_msg_id)
        draft = MessageDraft(sender=Sender(type="customer", id=connection.owner_id, name=connection.name),
                             channel=connection.channel or "app", text=frame.text, client_msg_id=frame.client_msg_id)

        acked: list[AppendResult] = []

        def acknowledge(result: AppendResult) -> None:
            logger.append_keys(conversation_id=result.message.conversation_id)
            self._reply(endpoint, connection.connection_id, frames.ack_for(frame.client_msg_id, result))
            acked.append(result)

        try:
            result = self._service.post_from_customer(
                connection.owner_id, draft,
                DedupKey(keys.dedup_scope("client", connection.owner_id), frame.client_msg_id),
                conversation_hint=connection.conversation_id, exclude_connection=connection.connection_id,
                acknowledge=acknowledge,
            )
        except Exception:
            if not acked:
                raise  # not stored: the client is told to retry (handle_frame)
            # Stored, its effects scheduled and the client acknowledged: what failed came after (the
            # ack's own bookkeeping). Telling the client to resend would not help. Logged and counted.
            logger.exception("message stored, but a later step failed", extra={"client_msg_id": frame.client_msg_id})
            self._metrics.add_metric(name="MessageEffectsFailed", unit=MetricUnit.Count, value=1)
            result = acked[0]
        name = "DuplicateMessages" if result.duplicate else "MessagesReceived"
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if result.message.conversation_id != connection.conversation_id and not result.duplicate:
            self._connections.attach(connection.connection_id, result.message.conversation_id)

    def _history(self, connection: Connection, frame: frames.History) -> dict[str, Any]:
        conversation_id, messages, has_more = self._service.history(
            connection.owner_id, frame.conversation_id, after_seq=frame.after_seq, before_seq=frame.before_seq,
            limit=min(frame.limit, self._settings.history_page_max))
        return frames.history([m.public_view() for m in messages], has_more, conversation_id)

    def _reply(self, endpoint: str, connection_id: str, frame: dict[str, Any]) -> None:
        self._notifier.send(endpoint, connection_id, frame)
