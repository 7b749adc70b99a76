"""May this customer receive marketing? Opt-out keywords, recorded, and the hook for consent records.

A customer who writes an opt-out keyword (退订, TD, STOP, UNSUBSCRIBE, ... in any language, on
any channel, alone in the message) is recorded as opted out (`OPTOUT#<channel>` on their profile
partition: keyword, message, time), gets a confirmation in their language, and the bot does not
answer the keyword (the subscriber returns CONSUMED). An opt-out said on one channel stops
marketing on every channel: "STOP" means stop. Service messages (follow-ups of their own
requests, agents' answers) are not marketing and still reach them.

Marketing consent per customer and channel, set by the company's backend or by the customer, is
kept by the privacy domain; anything with a `marketing_consent(customer_id, channel)` method
(`MarketingConsent`) can be handed to `MarketingGate`, which campaigns ask before each recipient.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools import Logger

from chalicelib.core.bus import CONSUMED
from chalicelib.core.models import DedupKey, MessageDraft, Sender
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.conversations.service import ConversationService
    from chalicelib.core.events import MessageStored
    from chalicelib.i18n import Catalog
    from chalicelib.store.table import Table

logger = Logger(child=True)

OPT_OUT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "zh": ("退订", "TD", "取消订阅", "退订营销"),
    "en": ("STOP", "UNSUBSCRIBE", "STOP ALL", "OPT OUT", "OPTOUT"),
}
_ALL_KEYWORDS = frozenset(k for words in OPT_OUT_KEYWORDS.values() for k in words)
_TRAILING = re.compile(r"[\s\.\!\?。！？,，;；~～]+$")


def opt_out_keyword(message_text: str | None) -> str | None:
    """The keyword `message_text` consists of (case, width and trailing punctuation ignored), else None."""
    if not message_text or len(message_text) > 40:
        return None
    normalised = _TRAILING.sub("", unicodedata.normalize("NFKC", message_text).strip()).upper()
    normalised = re.sub(r"\s+", " ", normalised)
    return normalised if normalised in _ALL_KEYWORDS else None


class MarketingConsent(Protocol):
    """A consent record: True (opted in), False (refused or withdrawn), None (nothing recorded)."""

    def marketing_consent(self, customer_id: str, channel: str) -> bool | None: ...


@dataclass(frozen=True)
class OptOut:
    customer_id: str
    channel: str
    keyword: str
    message_id: str | None
    at_ms: int


class OptOutStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(self, opt_out: OptOut) -> bool:
        """Record the opt-out (the first one per channel is kept); False if it was recorded before."""
        from chalicelib.store.table import ConditionFailed

        item = {schema.PK: keys.customer_pk(opt_out.customer_id), schema.SK: keys.optout_sk(opt_out.channel),
                "type": "optout", "customer_id": opt_out.customer_id, "channel": opt_out.channel,
                "keyword": opt_out.keyword, "message_id": opt_out.message_id, "at_ms": opt_out.at_ms}
        try:
            self._table.put_item(Item=encode(item), ConditionExpression="attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def opt_outs(self, customer_id: str) -> list[OptOut]:
        items = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                                      ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                                                 ":prefix": encode_value(keys.OPTOUT_SK_PREFIX)})
        out = []
        for raw in items:
            item = decode(raw) or {}
            out.append(OptOut(customer_id=customer_id, channel=item["channel"], keyword=item["keyword"],
                              message_id=item.get("message_id"), at_ms=int(item["at_ms"])))
        return out

    def opted_out(self, customer_id: str) -> bool:
        return bool(self.opt_outs(customer_id))


class MarketingGate:
    """The one answer to "may we send this customer marketing on this channel?" (with the reason if not)."""

    def __init__(self, opt_outs: OptOutStore, consent: MarketingConsent | None = None) -> None:
        self._opt_outs = opt_outs
        self._consent = consent

    def refusal(self, customer_id: str, channel: str, *, opted_in_only: bool) -> str | None:
        """None if marketing may go out; else `opted_out`, `consent_withdrawn` or `not_opted_in`."""
        if self._opt_outs.opted_out(customer_id):
            return "opted_out"
        consent = self._consent.marketing_consent(customer_id, channel) if self._consent else None
        if consent is False:
            return "consent_withdrawn"
        if opted_in_only and consent is not True:
            return "not_opted_in"
        return None


class OptOutListener:
    """A `MessageStored` subscriber: an opt-out keyword from a customer is recorded and confirmed."""

    def __init__(self, store: OptOutStore, conversations: ConversationService, catalog: Catalog,
                 language: Callable[..., str]) -> None:
        self._store = store
        self._conversations = conversations
        self._catalog = catalog
        self._language = language  # the conversation's language (`LanguageResolver.for_conversation`)

    def on_message(self, event: MessageStored) -> object:
        message = event.message
        if message.sender.type != "customer" or message.visibility != "public":
            return None
        keyword = opt_out_keyword(message.text)
        if keyword is None:
            return None
        recorded = self._store.record(OptOut(customer_id=message.sender.id, channel=message.channel,
                                             keyword=keyword, message_id=message.message_id, at_ms=message.ts_ms))
        logger.info("customer opted out of marketing", extra={"channel": message.channel, "new": recorded})
        confirmation = MessageDraft(sender=Sender(type="system", id="outreach"), channel=message.channel,
                                    text=self._catalog.text("outreach.optout.confirmed",
                                                            self._language(message.conversation_id)),
                                    meta={"outreach": "optout_confirmation"})
        self._conversations.post(message.conversation_id, confirmation,
                                 DedupKey("outreach", ("optout", message.message_id)))
        return CONSUMED
