"""Platform webhooks -> the conversation model.

`WebhookService.receive(channel, request)` is everything `POST /webhooks/{channel}` does:

1. the adapter verifies the RAW bytes (constant time) before anything is parsed or stored; a
   missing credential answers 401, a wrong or stale one 403, and `WebhookRejected` is counted;
2. the whole body is parsed before the first write, so a malformed body (400) stores nothing;
3. every `InboundEvent` is recorded: the channel identity resolves to a customer (a first
   contact creates `cus_<ULID>`), the conversation's reply route is updated, and the message is
   posted with `DedupKey(scope=<channel>, key=<event key>)`, so a platform retry stores one
   message and - listeners only run for new messages - produces one reply.

Events: follow/unfollow set the identity's `following` flag and are stored as internal
`kind="event"` messages (an unfollow with no open conversation only updates the identity);
delivered/read/failed receipts update the delivery state of the outbound message they name
(receipts that name no message, e.g. Messenger read watermarks, are counted and logged);
Messenger echoes of our own sends are not customer messages and are skipped. Everything else,
including types the adapters do not model, is stored (`kind="unsupported"`, `meta.raw_type`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from chalicelib import ids
from chalicelib.channels.errors import ConfigurationError, MalformedPayload, SignatureError
from chalicelib.channels.registry import SUPPORTED_CHANNELS, UnknownChannel, adapter_for, spec_for
from chalicelib.core.models import AppendResult, DedupKey, MessageDraft, Sender
from chalicelib.store.delivery_store import delivery_changed
from chalicelib.webhooks.limits import PlannedEvent, plan

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools import Metrics

    from chalicelib.channels.models import InboundEvent, WebhookRequest
    from chalicelib.conversations.service import ConversationService
    from chalicelib.secrets import Secrets
    from chalicelib.store.delivery_store import DeliveryStore
    from chalicelib.store.identity_store import IdentityStore
    from chalicelib.webhooks.limits import OriginalTexts
    from chalicelib.webhooks.replay import ReplayGuard

logger = Logger(child=True)

# The webhook channels (social platforms and the generic webhook), from the one channel registry.
SOCIAL_CHANNELS = frozenset(SUPPORTED_CHANNELS)

_MESSAGE_KIND = {"follow": "event", "unfollow": "event"}
_RECEIPT_STATUS = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: Any
    content_type: str = "application/json"


class ChannelSecrets:
    """The mapping an adapter takes: its secrets plus the non-secret API base override."""

    def __init__(self, secrets: Secrets, env: Mapping[str, str] | None = None) -> None:
        self._secrets = secrets
        self._env = os.environ if env is None else env

    def for_channel(self, channel: str) -> dict[str, str]:
        if channel not in SOCIAL_CHANNELS:
            return {}
        spec = spec_for(channel)
        values = self._secrets.many(list(spec.secrets))
        base = spec.api_base_setting
        if base and self._env.get(base):
            values[base] = self._env[base]
        return values


class WebhookService:
    def __init__(self, secrets: ChannelSecrets, identities: IdentityStore, deliveries: DeliveryStore,
                 conversations: ConversationService, metrics: Metrics, originals: OriginalTexts,
                 replay: ReplayGuard, publish: Callable[[object], None]) -> None:
        self._publish = publish  # DeliveryChanged, once per receipt that moved a delivery forward
        self._secrets = secrets
        self._identities = identities
        self._deliveries = deliveries
        self._conversations = conversations
        self._metrics = metrics
        self._originals = originals  # issue 13: full texts of capped messages
        self._replay = replay  # issue 13: a signed nonce is not used twice for other content

    # -- the routes --------------------------------------------------------------------------

    def handshake(self, channel: str, request: WebhookRequest) -> WebhookResponse:
        try:
            adapter = adapter_for(channel)
        except UnknownChannel:
            return _error(404, "unknown_channel", f"no such channel: {channel}")
        try:
            status, body = adapter.handshake(request, self._secrets.for_channel(channel))
        except ConfigurationError as exc:
            logger.error("webhook handshake not configured", extra={"channel": channel, "reason": exc.reason})
            return _error(503, "not_configured", f"{channel} is not configured")
        if status != 200:
            self._metrics.add_metric(name="WebhookHandshakeRejected", unit="Count", value=1)
        return WebhookResponse(status, body, "text/plain")

    def receive(self, channel: str, request: WebhookRequest) -> WebhookResponse:
        try:
            adapter = adapter_for(channel)
        except UnknownChannel:
            return _error(404, "unknown_channel", f"no such channel: {channel}")
        secrets = self._secrets.for_channel(channel)
        try:
            adapter.verify(request, secrets)
            planned = [self._plan(event) for event in adapter.parse(request, secrets)]
            self._replay.check(channel, adapter, request)  # the first write, once the body is accepted
        except SignatureError as exc:
            self._metrics.add_metric(name="WebhookRejected", unit="Count", value=1)
            logger.warning("webhook signature rejected", extra={"channel": channel, "reason": exc.reason,
                                                                "status": exc.status})
            return _error(exc.status, exc.code, exc.reason)
        except (MalformedPayload, ValidationError) as exc:  # issue 13: every refusal before the first write
            reason = exc.reason if isinstance(exc, MalformedPayload) else _validation_reason(exc)
            self._metrics.add_metric(name="WebhookMalformed", unit="Count", value=1)
            logger.warning("webhook body malformed", extra={"channel": channel, "reason": reason})
            return _error(400, MalformedPayload.code, reason)
        except ConfigurationError as exc:
            logger.error("webhook not configured", extra={"channel": channel, "reason": exc.reason})
            return _error(503, "not_configured", f"{channel} is not configured")
        stored = duplicates = 0
        events = [p.event for p in planned]
        for item in planned:
            self._originals.keep(item)
            result = self.record(item.event, original_text=item.original_meta)
            if result is not None:
                duplicates += result.duplicate
                stored += not result.duplicate
        if events:
            self._metrics.add_metric(name="WebhookEvents", unit="Count", value=len(events))
        if channel == "wechat":  # WeChat wants exactly "success" (or an XML reply) within 5 s
            return WebhookResponse(200, "success", "text/plain")
        return WebhookResponse(200, {"ok": True, "events": len(events), "stored": stored,
                                     "duplicates": duplicates})

    # -- one event ---------------------------------------------------------------------------

    def _plan(self, event: InboundEvent) -> PlannedEvent:
        return plan(event)

    def record(self, event: InboundEvent, original_text: dict[str, Any] | None = None) -> AppendResult | None:
        """Store one inbound event; None when it only updated state (receipts, echoes, a late unfollow)."""
        if event.kind in ("read", "delivery"):
            self._receipt(event)
            return None
        if event.raw_type == "message:echo":
            logger.info("skipped echo of our own message", extra={"channel": event.channel})
            return None
        identity, created = self._identities.resolve(event.channel, event.external_user_id,
                                                     profile_name=event.profile_name, phone=event.phone,
                                                     email=event.email)
        if created:
            self._metrics.add_metric(name="CustomersCreatedFromChannels", unit="Count", value=1)
        customer_id = identity.customer_id
        if event.kind in ("follow", "unfollow"):
            self._identities.set_following(event.channel, event.external_user_id, event.kind == "follow")
        dedup = DedupKey(scope=event.channel, key=event.event_key)
        conversation_id = self._conversations.open_conversation_id(customer_id)
        if conversation_id is None:
            if (original := self._conversations.find_duplicate(dedup)) is not None:
                return AppendResult(original, duplicate=True)  # a late redelivery: open nothing new
            if event.kind == "unfollow":
                return None  # nothing to tell anyone: the identity's state is the record
            conversation_id = self._conversations.ensure_open(customer_id, event.channel)
        if event.kind != "unfollow":
            self._route(conversation_id, event)
        result = self._conversations.post_from_customer(customer_id, _draft(event, customer_id, original_text), dedup,
                                                        conversation_hint=conversation_id)
        if result.message.conversation_id != conversation_id and event.kind != "unfollow":
            self._route(result.message.conversation_id, event)  # it was closed meanwhile: a new one opened
        return result

    def _route(self, conversation_id: str, event: InboundEvent) -> None:
        customer_ms = min(int(event.platform_ts.timestamp() * 1000), ids.now_ms())
        self._deliveries.set_reply_route(conversation_id, event.channel, event.external_user_id,
                                         dict(event.reply_context), customer_ms)

    def _receipt(self, event: InboundEvent) -> None:
        status = _RECEIPT_STATUS.get(event.status or "", "read" if event.kind == "read" else "delivered")
        at_ms = int(event.platform_ts.timestamp() * 1000)
        applied = 0
        for platform_id in event.related_message_ids:
            error = event.text if status == "failed" else None
            moved = self._deliveries.apply_receipt(event.channel, platform_id, status, error, at_ms)
            if moved is not None:  # a repeated receipt moves nothing, and says nothing
                applied += 1
                self._publish(delivery_changed(moved, event.channel,
                                               error_code="platform_failed" if status == "failed" else None))
        if not event.related_message_ids:
            self._metrics.add_metric(name="WebhookReceiptsWithoutMessage", unit="Count", value=1)
        logger.info("delivery receipt", extra={"channel": event.channel, "status": status, "applied": applied})


def _draft(event: InboundEvent, customer_id: str, original_text: dict[str, Any] | None = None) -> MessageDraft:
    attachments: list[dict[str, Any]] = [
        {"type": event.kind if event.kind in ("image", "file", "audio", "video") else "file",
         **media.model_dump(exclude_none=True)}
        for media in event.media
    ]
    if event.location is not None:
        attachments.append({"type": "location", **event.location.model_dump(exclude_none=True)})
    text = event.text
    if event.kind == "postback" and not text:
        text = event.postback
    if event.kind in ("follow", "unfollow") and not text:
        text = event.kind
    meta = {
        "platform": event.channel, "external_user_id": event.external_user_id, "event_key": event.event_key,
        "raw_type": event.raw_type, "platform_ts": event.platform_ts.astimezone(UTC).isoformat(),
        "postback": event.postback, "reply_context": dict(event.reply_context) or None,
        "profile_name": event.profile_name, "is_redelivery": event.is_redelivery or None,
        "original_text": original_text,
    }
    return MessageDraft(
        sender=Sender(type="customer", id=customer_id, name=event.profile_name),
        channel=event.channel,
        kind=_MESSAGE_KIND.get(event.kind, event.kind),
        text=text,
        attachments=attachments or None,
        visibility="internal" if event.kind in ("follow", "unfollow") else "public",
        meta={k: v for k, v in meta.items() if v is not None},
    )


def _validation_reason(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    return f"invalid event: {'.'.join(str(p) for p in first['loc'])} {first['msg']}"[:300]


def _error(status: int, code: str, message: str) -> WebhookResponse:
    return WebhookResponse(status, {"code": code, "message": message})
