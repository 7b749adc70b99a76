"""Where a customer can be reached, and whether free text may go there or only a template.

`destination` finds the customer's channel identity (the one asked for, else the channel they last
wrote from) and the time of their last message there, read from their conversations' reply routes.
`compose` applies the channel's sending policy (`check_and_split`, the customer-service window):
free text when it is allowed, else the template chosen, else an approved template serving the
purpose (`reengage` last); when neither is possible it raises `Unreachable` with the policy's code
(`outside_24h_window`, ...) and why. `deliver` posts the message into the customer's open
conversation (a new one if none), with the reply route pointing at the destination, so outbound
delivery, the WebSocket fan-out and the history all see it as any other message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib import ids
from chalicelib.channels.errors import PolicyViolation
from chalicelib.channels.models import OutboundMessage
from chalicelib.channels.policies import check_and_split
from chalicelib.channels.registry import POLICIES
from chalicelib.core.channels import SOCKET_CHANNELS
from chalicelib.core.models import AppendResult, Conversation, ConversationClosed, DedupKey, MessageDraft, Sender
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.outreach.templates import REENGAGE, MessageTemplate, TemplateChoice, TemplateStore, render

if TYPE_CHECKING:

    from chalicelib.conversations.service import ConversationService
    from chalicelib.i18n import Catalog, LanguageResolver
    from chalicelib.store.delivery_store import DeliveryStore, ReplyRoute
    from chalicelib.store.identity_store import IdentityStore

RECENT_CONVERSATIONS = 5


class Unreachable(Conflict):
    """Neither free text nor a template may reach the customer there (409 with the policy's code)."""


@dataclass(frozen=True)
class Destination:
    customer_id: str
    channel: str
    external_id: str | None  # None on the app's own channels
    reply_context: dict[str, str] = field(default_factory=dict)
    last_customer_ms: int | None = None
    language: str = "en"
    customer_name: str | None = None

    @property
    def social(self) -> bool:
        return self.channel not in SOCKET_CHANNELS


@dataclass(frozen=True)
class Composed:
    text: str
    meta: dict[str, Any]
    mode: str  # "free_text" | "template"
    template_id: str | None = None
    category: str | None = None


class Reach:
    def __init__(self, conversations: ConversationService, deliveries: DeliveryStore, identities: IdentityStore,
                 templates: TemplateStore, languages: LanguageResolver, catalog: Catalog) -> None:
        self._conversations = conversations
        self._deliveries = deliveries
        self._identities = identities
        self._templates = templates
        self._languages = languages
        self._catalog = catalog

    def text(self, key: str, language: str, **params: object) -> str:
        """A catalog text (`chalicelib/i18n`) in `language`."""
        return self._catalog.text(key, language, **params)

    # -- where ---------------------------------------------------------------------------------

    def destination(self, customer_id: str, channel: str | None = None,
                    external_id: str | None = None) -> Destination:
        customer = self._conversations.get_customer(customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found", code="customer_not_found")
        name = customer.name
        conversation_ids, latest = self._recent_conversations(customer_id)
        language = self._languages.for_customer(customer_id, known=(latest, customer))  # no second read of either
        routes = [r for r in (self._deliveries.reply_route(c) for c in conversation_ids) if r is not None]
        routes.sort(key=lambda r: r.route_ms, reverse=True)
        if channel is None:
            channel = routes[0].channel if routes else "app"
        if channel in SOCKET_CHANNELS:
            return Destination(customer_id, channel, None, language=language, customer_name=name)
        if channel not in POLICIES:
            raise InvalidInput(f"unknown channel {channel}", code="invalid_channel")
        identities = [i for i in self._identities.for_customer(customer_id) if i.channel == channel]
        if external_id is not None:
            identities = [i for i in identities if i.external_id == external_id]
        if not identities:
            raise Unreachable(f"the customer has no {channel} identity" + (f" {external_id}" if external_id else ""),
                              code="no_identity_on_channel")
        identity = max(identities, key=lambda i: i.updated_ms or i.created_ms)
        same = [r for r in routes if r.channel == channel and r.external_id == identity.external_id]
        return Destination(customer_id, channel, identity.external_id,
                           reply_context=dict(same[0].reply_context) if same else {},
                           last_customer_ms=_last_customer_ms(same, channel), language=language,
                           customer_name=name or identity.profile_name)

    def _recent_conversations(self, customer_id: str) -> tuple[list[str], list[Conversation]]:
        """The ids of the open and latest conversations, and the latest (newest first)."""
        found: list[str] = []
        open_id = self._conversations.open_conversation_id(customer_id)
        if open_id:
            found.append(open_id)
        latest = self._conversations.list_customer_conversations(customer_id, limit=RECENT_CONVERSATIONS)
        for conversation in latest:
            if conversation.conversation_id not in found:
                found.append(conversation.conversation_id)
        return found, latest

    # -- what ----------------------------------------------------------------------------------

    def window_refusal(self, dest: Destination, text: str = "-") -> PolicyViolation | None:
        """The policy's refusal of free text to `dest` now (None: free text may go)."""
        if not dest.social:
            return None
        last = datetime.fromtimestamp(dest.last_customer_ms / 1000, UTC) if dest.last_customer_ms else None
        now = datetime.fromtimestamp(ids.now_ms() / 1000, UTC)
        try:
            check_and_split(OutboundMessage(channel=dest.channel, recipient_id=dest.external_id or "-", text=text),
                            POLICIES[dest.channel], last, now)
        except PolicyViolation as exc:
            return exc
        return None

    def compose(self, dest: Destination, *, text: str | None = None, choice: TemplateChoice | None = None,
                purpose: str = REENGAGE, values: dict[str, str] | None = None,
                quick_replies: list[dict[str, str]] | None = None,
                among: list[MessageTemplate] | None = None) -> Composed:
        """Free text if the channel allows it now, else a template (chosen, or serving `purpose`).

        `among`: every template, read once by a caller composing many messages."""
        context = {"customer_name": dest.customer_name or self.text("outreach.customer_name_unknown", dest.language),
                   **(values or {})}
        if choice is not None:
            template = self._templates.choose(choice.template_id, dest.channel, choice.language or dest.language,
                                              among)
            rendered = render(template, {**context, **choice.params})
            return Composed(rendered.text, rendered.meta, "template", template.template_id, template.category)
        if not (text and text.strip()):
            raise InvalidInput("give text or a template", code="empty_field")
        refusal = self.window_refusal(dest, text)
        if refusal is None:
            meta: dict[str, Any] = {"quick_replies": quick_replies} if quick_replies else {}
            return Composed(text, meta, "free_text")
        if not refusal.code.startswith("outside_"):
            raise Unreachable(refusal.reason, code=refusal.code)
        for wanted in dict.fromkeys((purpose, REENGAGE)):
            fallback = self._templates.for_purpose(wanted, dest.channel, dest.language)
            if fallback is None:
                continue
            rendered = render(fallback, {**context, "text": text})
            return Composed(rendered.text, rendered.meta, "template", fallback.template_id, fallback.category)
        raise Unreachable(f"{refusal.reason}; no approved {dest.channel} template serves {purpose!r} "
                          f"or {REENGAGE!r}", code=refusal.code)

    # -- sending -------------------------------------------------------------------------------

    def deliver(self, dest: Destination, sender: Sender, composed: Composed, dedup: DedupKey,
                extra_meta: dict[str, Any] | None = None) -> AppendResult:
        """Post the composed message into the customer's open conversation, routed to `dest`."""
        meta = {**composed.meta, **(extra_meta or {})}
        if composed.template_id:
            meta["outreach_mode"] = composed.mode
        draft = MessageDraft(sender=sender, channel=dest.channel, text=composed.text, meta=meta or None)
        for attempt in (1, 2):
            conversation_id = self._conversations.ensure_open(dest.customer_id, dest.channel)
            self._route(conversation_id, dest)
            try:
                return self._conversations.post(conversation_id, draft, dedup)
            except ConversationClosed:  # closed between the two calls: the next one opens a new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _route(self, conversation_id: str, dest: Destination) -> None:
        if not dest.social or dest.external_id is None:
            return
        current = self._deliveries.reply_route(conversation_id)
        if current is not None and current.channel == dest.channel and current.external_id == dest.external_id:
            return
        if not self._deliveries.set_reply_route(conversation_id, dest.channel, dest.external_id,
                                                dest.reply_context, dest.last_customer_ms):
            # a later customer message is already recorded there: keep its time, move the route only
            self._deliveries.set_reply_route(conversation_id, dest.channel, dest.external_id,
                                             dest.reply_context, None)


def _last_customer_ms(routes: list[ReplyRoute], channel: str) -> int | None:
    times = [r.last_customer_ms.get(channel, 0) for r in routes]
    latest = max(times, default=0)
    return latest or None

