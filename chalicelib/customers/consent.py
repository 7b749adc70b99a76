"""Marketing consent per customer and channel (issue 16, privacy rights).

The company's backend sets it over REST (`PUT /customers/{id}/consent/{channel}`), and the customer
sets it themselves (an opt-in or opt-out frame, an opt-out keyword such as 退订 / STOP on any
channel). Campaigns and other marketing-type messages ask `may_market(customer, channel)` before
sending: without a recorded grant the answer is no (opt-in by default), and a revocation on the
channel `all` (what an opt-out keyword records) wins over every channel until a newer grant.

Each change writes the current state (pk=CUST#id, sk=CONSENT#channel) and an entry in the consent
history (sk=CONSENTLOG#ms#id) in one transaction, so the export can show when and by whom consent
was given or withdrawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib import ids
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.store.table import Table

ALL_CHANNELS = "all"
ConsentSource = Literal["backend", "customer", "keyword", "admin"]
ChannelName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]


class ConsentRecord(BaseModel):
    """One customer's marketing consent on one channel, as last recorded."""

    model_config = ConfigDict(extra="ignore")

    customer_id: str
    channel: str
    granted: bool
    source: ConsentSource
    actor: str | None = None  # the backend's agent id, or None when the customer set it
    note: str | None = None
    at_ms: int


class ConsentInput(BaseModel):
    """Body of `PUT /customers/{id}/consent/{channel}`."""

    model_config = ConfigDict(extra="forbid")

    granted: bool
    note: str | None = Field(default=None, max_length=500)


class ConsentStore:
    """Current consent and its history in the single table."""

    def __init__(self, table: Table, clock: Callable[[], int] = ids.now_ms) -> None:
        self._table = table
        self._now = clock

    def record(self, customer_id: str, channel: str, granted: bool, source: ConsentSource, *,
               actor: str | None = None, note: str | None = None) -> ConsentRecord:
        """Set the customer's consent on `channel` (`all` for every channel) and log the change."""
        entry = ConsentRecord(customer_id=customer_id, channel=channel, granted=granted, source=source,
                              actor=actor, note=note, at_ms=self._now())
        pk = keys.customer_pk(customer_id)
        body = {"type": "consent", **entry.model_dump(exclude_none=True)}
        self._table.transact([
            {"Put": {"Item": encode({schema.PK: pk, schema.SK: keys.consent_sk(channel), **body})}},
            {"Put": {"Item": encode({schema.PK: pk, schema.SK: keys.consent_log_sk(entry.at_ms, ids.new_id("cns")),
                                     **body, "type": "consent_log"})}},
        ])
        return entry

    def may_market(self, customer_id: str, channel: str) -> bool:
        """True only if the customer's latest word on `channel` (or on `all`) is a grant."""
        return self.marketing_consent(customer_id, channel) is True  # a tie: the revocation wins

    def marketing_consent(self, customer_id: str, channel: str) -> bool | None:
        """The customer's latest word on `channel` (or on `all`); None if they never gave one (the
        outreach domain's `MarketingConsent`)."""
        current = {r.channel: r for r in self.for_customer(customer_id)}
        candidates = [r for r in (current.get(channel), current.get(ALL_CHANNELS)) if r is not None]
        if not candidates:
            return None
        return max(candidates, key=lambda r: (r.at_ms, not r.granted)).granted

    def for_customer(self, customer_id: str) -> list[ConsentRecord]:
        """The current consent of every channel the customer has a record for."""
        items = self._table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)", ConsistentRead=True,
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":p": encode_value(keys.CONSENT_SK_PREFIX)})
        return [ConsentRecord.model_validate(decode(i)) for i in items]

    def history(self, customer_id: str) -> list[ConsentRecord]:
        """Every change of the customer's consent, oldest first."""
        items = self._table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":p": encode_value(keys.CONSENT_LOG_SK_PREFIX)})
        return [ConsentRecord.model_validate(decode(i)) for i in items]
