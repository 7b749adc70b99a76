"""Templates in the desk's replies, and the template the policy engine picks when free text is refused.

- `ReplyTemplates`: an agent's reply may name a template (`template: {template_id, params}`, from
  REST and the WebSocket `reply` frame); it is rendered for the conversation's channel and
  language, the text is what the conversation shows, and `meta.template` / `meta.message_tag` are
  what outbound delivery sends.
- `WindowFallback`: given to the outbound consumer. When the channel's policy refuses free text
  (`outside_24h_window`, ...) for a message without a template, the channel's approved `reengage`
  template in the conversation's language goes instead, the message's text as its `text`
  parameter (a Messenger `HUMAN_AGENT` tag, a WhatsApp template, a WeChat template message). No
  such template: the refusal stands, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.channels.models import Template
from chalicelib.errors import DomainError
from chalicelib.outreach.templates import REENGAGE, render

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.channels.errors import PolicyViolation
    from chalicelib.i18n import Catalog
    from chalicelib.outbound.models import OutboundJob
    from chalicelib.outreach.templates import TemplateChoice, TemplateStore
    from chalicelib.store.delivery_store import DeliveryStore


class ReplyTemplates:
    def __init__(self, templates: TemplateStore, deliveries: DeliveryStore, language: Callable[..., str],
                 customer_name: Callable[[str], str | None], catalog: Catalog) -> None:
        self._templates = templates
        self._catalog = catalog
        self._deliveries = deliveries
        self._language = language
        self._customer_name = customer_name

    def render(self, conversation_id: str, channel: str, customer_id: str, choice: TemplateChoice,
               agent_name: str | None) -> tuple[str, dict[str, Any]]:
        """(text, meta) of `choice` for the conversation's reply channel (else `channel`, the app's)."""
        route = self._deliveries.reply_route(conversation_id)
        target = route.channel if route is not None else channel
        language = choice.language or self._language(conversation_id)
        template = self._templates.choose(choice.template_id, target, language)
        unknown = self._catalog.text("outreach.customer_name_unknown", language)
        values = {"customer_name": self._customer_name(customer_id) or unknown,
                  "agent_name": agent_name or "",
                  **choice.params}
        rendered = render(template, values)
        return rendered.text, rendered.meta


class WindowFallback:
    def __init__(self, templates: TemplateStore, language: Callable[..., str],
                 customer_name: Callable[[str], str | None], catalog: Catalog) -> None:
        self._templates = templates
        self._catalog = catalog
        self._language = language
        self._customer_name = customer_name

    def __call__(self, job: OutboundJob, refusal: PolicyViolation) -> OutboundJob | None:
        if not refusal.code.startswith("outside_") or not (job.text and job.text.strip()):
            return None
        language = self._language(job.conversation_id)
        template = self._templates.for_purpose(REENGAGE, job.channel, language)
        if template is None:
            return None
        name = self._customer_name(job.customer_id) or self._catalog.text("outreach.customer_name_unknown", language)
        try:
            rendered = render(template, {"text": job.text, "customer_name": name})
        except DomainError:
            return None
        meta = rendered.meta
        return job.model_copy(update={
            "text": rendered.text, "quick_replies": [], "media": None,
            "template": Template.model_validate(meta["template"]) if meta.get("template") else None,
            "message_tag": meta.get("message_tag")})
