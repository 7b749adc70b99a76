"""Campaigns: one template to a segment of customers, paced per channel, once per recipient, with a report.

A supervisor or admin creates a campaign (template, static parameter values, segment: last contact
after/before, tags, opted-in only) and starts it. Everything after that runs on the campaign queue:

1. **build** jobs read the contact index (`contacts.ContactIndex`) one page at a time. Each page
   writes one recipient item per customer (`CAMPAIGN#id` / `RCPT#customer`, conditional, so a
   redelivered page adds no one twice): `skipped` with the reason when `MarketingGate` says no
   (opted out, consent withdrawn, not opted in) or the tags do not match, else `queued` with a send
   job. Send jobs are spread over time by their place in the campaign (SQS delay, at most 15
   minutes). The campaign item holds the build cursor and its step: a job whose step is not the
   campaign's is a duplicate and does nothing, and the minute's sweep restarts a build that stalled.
2. **send** jobs ask the channel's rate limiter (`SendRate`: a counter per channel and rate window
   in DynamoDB, shared by every campaign and consumer) for a slot; without one the job is put back
   with the window's remaining delay. With a slot, `MarketingGate` is asked again (they may have
   opted out since), the recipient is claimed (`queued` -> `sending`, with a lease), and the template
   is posted into their conversation (`Reach`, dedup key `campaign#<id>#<customer>`), then marked
   `sent`. The outbound pipeline delivers it; receipts move the message's delivery state. A batch of
   send jobs reads its campaigns and recipients in one BatchGetItem, the templates once, reserves
   its slots with one or two counter updates (unused ones are given back) and puts the jobs that
   must wait back with one SendMessageBatch: about 23 AWS calls per recipient on this path (29 before).
3. **replies**: the customer's next message after the campaign marks their recipient `replied`.

Every move of a recipient (queued, skipped, sent, failed, replied; delivered, read and failed from
the platform's receipts, `DeliveryChanged`) is published once as `CampaignRecipientChanged`, which
analytics turns into the `campaign_recipient` events of the delivery report.

`report` counts recipients by stage: queued, sent, delivered, read, failed (with reasons),
replied, skipped (with reasons).
"""

from __future__ import annotations

import math
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from chalicelib import ids
from chalicelib.core.events import CampaignRecipientChanged
from chalicelib.core.models import DedupKey, Sender
from chalicelib.errors import Conflict, DomainError, InvalidInput, NotFound
from chalicelib.outreach.templates import ParamName, TemplateChoice, TemplateId
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.dynamo import names
from chalicelib.store.table import ConditionFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_sqs import SQSClient

    from chalicelib.core.events import CampaignRecipientState, DeliveryChanged, MessageStored
    from chalicelib.outreach.consent import MarketingGate
    from chalicelib.outreach.contacts import ContactIndex
    from chalicelib.outreach.reach import Reach
    from chalicelib.outreach.templates import MessageTemplate, TemplateStore
    from chalicelib.store.delivery_store import DeliveryStore
    from chalicelib.store.table import Table

logger = Logger(child=True)

CampaignStatus = Literal["draft", "building", "sending", "cancelled"]
RecipientStatus = Literal["queued", "sending", "sent", "skipped", "failed"]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)]

PAGE_SIZE = 100
LEASE_MS = 60_000
STALLED_BUILD_MS = 5 * 60_000
MARK_TTL_SECONDS = 30 * 24 * 3600  # replies count for 30 days after the campaign message
MAX_DELAY_SECONDS = 900
# Default sending rates per channel (messages per minute), CAMPAIGN_RATE_<CHANNEL> overrides them;
# a campaign may ask for less. WhatsApp's lowest business tier allows ~80 messages per second.
DEFAULT_RATES = {"whatsapp": 600, "messenger": 300, "wechat": 300, "line": 600, "telegram": 1200,
                 "generic": 600, "app": 3000, "web": 3000, "miniprogram": 3000}


def channel_rate(channel: str) -> int:
    return int(os.environ.get(f"CAMPAIGN_RATE_{channel.upper()}") or DEFAULT_RATES.get(channel, 300))


class Segment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    last_contact_after_ms: int | None = Field(default=None, ge=0)
    last_contact_before_ms: int | None = Field(default=None, ge=0)
    tags: list[Tag] = Field(default_factory=list, max_length=10)  # every tag must be on the customer
    opted_in_only: bool = False


class CampaignInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    template_id: TemplateId
    channel: str = Field(min_length=1, max_length=32)
    params: dict[ParamName, Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=dict, max_length=20)  # "{customer_name}" in a value is filled per recipient
    segment: Segment = Field(default_factory=Segment)
    rate_per_minute: int | None = Field(default=None, ge=1, le=60_000)


class Campaign(CampaignInput):
    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    status: CampaignStatus = "draft"
    created_ms: int
    created_by: str
    started_ms: int | None = None
    built_ms: int | None = None
    build_step: int = 0
    cursor_shard: int = 0
    cursor_start: dict[str, Any] | None = None
    enqueued: int = 0
    progress_ms: int | None = None

    @property
    def rate(self) -> int:
        return min(self.rate_per_minute or channel_rate(self.channel), channel_rate(self.channel))


class Recipient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    customer_id: str
    status: RecipientStatus
    reason: str | None = None
    index: int | None = None
    lease_until_ms: int | None = None
    conversation_id: str | None = None
    seq: int | None = None
    message_id: str | None = None
    sent_ms: int | None = None
    replied_ms: int | None = None
    mode: str | None = None


class CampaignJob(BaseModel):
    type: Literal["build", "send"]
    campaign_id: str
    step: int | None = None  # build
    customer_id: str | None = None  # send


# -- the campaign's items ------------------------------------------------------------------------


class CampaignStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _meta_key(self, campaign_id: str) -> dict[str, Any]:
        return encode({schema.PK: keys.campaign_pk(campaign_id), schema.SK: keys.CAMPAIGN_META_SK})

    def _recipient_key(self, campaign_id: str, customer_id: str) -> dict[str, Any]:
        return encode({schema.PK: keys.campaign_pk(campaign_id), schema.SK: keys.recipient_sk(customer_id)})

    def create(self, campaign: Campaign) -> None:
        gsi1pk, gsi1sk = keys.campaigns_gsi1(campaign.created_ms, campaign.campaign_id)
        self._table.put_item(Item=encode({schema.PK: keys.campaign_pk(campaign.campaign_id),
                                          schema.SK: keys.CAMPAIGN_META_SK, schema.GSI1_PK: gsi1pk,
                                          schema.GSI1_SK: gsi1sk, "type": "campaign",
                                          **campaign.model_dump(exclude_none=True)}),
                             ConditionExpression="attribute_not_exists(pk)")

    def get(self, campaign_id: str) -> Campaign | None:
        item = self._table.get(self._meta_key(campaign_id), consistent=True)
        return Campaign.model_validate(item) if item else None

    def latest(self, limit: int = 50) -> list[Campaign]:
        page = self._table.query(IndexName=schema.GSI1, Limit=limit, ScanIndexForward=False,
                                 KeyConditionExpression="gsi1pk = :pk",
                                 ExpressionAttributeValues={":pk": encode_value(keys.CAMPAIGNS_GSI1_PK)})
        return [Campaign.model_validate(decode(i)) for i in page.get("Items", [])]

    def update(self, campaign_id: str, fields: dict[str, Any], *, condition: str,
               values: dict[str, Any]) -> bool:
        removes = [f"#f_{k}" for k, v in fields.items() if v is None]
        sets = ", ".join(f"#f_{k} = :f_{k}" for k, v in fields.items() if v is not None)
        expression = (f"SET {sets}" if sets else "") + (f" REMOVE {', '.join(removes)}" if removes else "")
        try:
            self._table.update_item(
                Key=self._meta_key(campaign_id), UpdateExpression=expression.strip(), ConditionExpression=condition,
                ExpressionAttributeNames={**names("status"), **{f"#f_{k}": k for k in fields}},
                ExpressionAttributeValues={**{f":f_{k}": encode_value(v) for k, v in fields.items() if v is not None},
                                           **{k: encode_value(v) for k, v in values.items()}})
        except ConditionFailed:
            return False
        return True

    def add_recipient(self, recipient: Recipient) -> Recipient | None:
        """Write the recipient once; the one already there if this customer was added before."""
        try:
            self._table.put_item(Item=encode({schema.PK: keys.campaign_pk(recipient.campaign_id),
                                              schema.SK: keys.recipient_sk(recipient.customer_id),
                                              "type": "recipient", **recipient.model_dump(exclude_none=True)}),
                                 ConditionExpression="attribute_not_exists(pk)")
        except ConditionFailed:
            return self.recipient(recipient.campaign_id, recipient.customer_id)
        return None

    def prefetch(self, campaign_ids: set[str], recipients: set[tuple[str, str]]
                 ) -> tuple[dict[str, Campaign | None], dict[tuple[str, str], Recipient | None]]:
        """Campaigns and recipients in one BatchGetItem (consistent): a batch of send jobs reads them once."""
        wanted = [self._meta_key(c) for c in sorted(campaign_ids)]
        wanted += [self._recipient_key(c, r) for c, r in sorted(recipients)]
        campaigns: dict[str, Campaign | None] = dict.fromkeys(campaign_ids)
        found: dict[tuple[str, str], Recipient | None] = dict.fromkeys(recipients)
        for offset in range(0, len(wanted), 100):  # BatchGetItem's limit
            for item in self._table.batch_get(wanted[offset:offset + 100]):
                if item.get("type") == "campaign":
                    campaigns[item["campaign_id"]] = Campaign.model_validate(item)
                elif item.get("type") == "recipient":
                    found[(item["campaign_id"], item["customer_id"])] = Recipient.model_validate(item)
        return campaigns, found

    def recipient(self, campaign_id: str, customer_id: str) -> Recipient | None:
        item = self._table.get(self._recipient_key(campaign_id, customer_id), consistent=True)
        return Recipient.model_validate(item) if item else None

    def recipients(self, campaign_id: str) -> list[Recipient]:
        items = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                                      ExpressionAttributeValues={":pk": encode_value(keys.campaign_pk(campaign_id)),
                                                                 ":prefix": encode_value(keys.RECIPIENT_SK_PREFIX)})
        return [Recipient.model_validate(decode(i)) for i in items]

    def move_recipient(self, campaign_id: str, customer_id: str, to: RecipientStatus, allowed: tuple[str, ...],
                       fields: dict[str, Any] | None = None, *, now_ms: int | None = None) -> bool:
        """`allowed` -> `to` (a `sending` whose lease ran out counts as `queued` when `now_ms` is given)."""
        fields = dict(fields or {})
        placeholders = {f":from{i}": encode_value(s) for i, s in enumerate(allowed)}
        condition = f"#status IN ({', '.join(placeholders)})"
        values = dict(placeholders)
        if now_ms is not None:
            condition = f"({condition}) OR (#status = :sending AND lease_until_ms < :now)"
            values.update({":sending": encode_value("sending"), ":now": encode_value(now_ms)})
        sets = ["#status = :to", *(f"#f_{k} = :f_{k}" for k in fields)]
        try:
            self._table.update_item(
                Key=self._recipient_key(campaign_id, customer_id), UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames={**names("status"), **{f"#f_{k}": k for k in fields}},
                ExpressionAttributeValues={":to": encode_value(to), **values,
                                           **{f":f_{k}": encode_value(v) for k, v in fields.items()}})
        except ConditionFailed:
            return False
        return True

    def mark_replied(self, campaign_id: str, customer_id: str, at_ms: int) -> bool:
        try:
            self._table.update_item(Key=self._recipient_key(campaign_id, customer_id),
                                    UpdateExpression="SET replied_ms = :at",
                                    ConditionExpression="#status = :sent AND attribute_not_exists(replied_ms)",
                                    ExpressionAttributeNames=names("status"),
                                    ExpressionAttributeValues={":at": encode_value(at_ms),
                                                               ":sent": encode_value("sent")})
        except ConditionFailed:
            return False
        return True

    # -- the customer's side: "you got campaign X" (their next message is its reply) ------------

    def put_mark(self, customer_id: str, campaign_id: str, sent_ms: int, channel: str) -> None:
        item = {schema.PK: keys.customer_pk(customer_id), schema.SK: keys.campaign_mark_sk(campaign_id),
                "campaign_id": campaign_id, "sent_ms": sent_ms, "channel": channel,
                schema.TTL_ATTRIBUTE: sent_ms // 1000 + MARK_TTL_SECONDS}
        self._table.put_item(Item=encode(item))

    def marks(self, customer_id: str) -> list[dict[str, Any]]:
        items = self._table.query_all(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                                      ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                                                 ":prefix": encode_value(keys.CAMPAIGN_MARK_SK_PREFIX)})
        return [decode(i) or {} for i in items]

    def drop_mark(self, customer_id: str, campaign_id: str) -> None:
        self._table.delete_item(Key=encode({schema.PK: keys.customer_pk(customer_id),
                                            schema.SK: keys.campaign_mark_sk(campaign_id)}))

    def profile_tags(self, customer_id: str) -> set[str]:
        item = self._table.get(encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.PROFILE_SK}))
        return {str(t).lower() for t in (item or {}).get("tags") or []}

    def set_profile_tags(self, customer_id: str, tags: list[str]) -> bool:
        try:
            self._table.update_item(
                Key=encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.PROFILE_SK}),
                UpdateExpression="SET tags = :t", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":t": encode_value(sorted(set(tags)))})
        except ConditionFailed:
            return False
        return True


class SendRate:
    """Per-channel pacing shared by every campaign: a counter per channel and window (DynamoDB, TTL)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def window(rate_per_minute: int) -> tuple[int, int]:
        """(window length in ms, sends allowed in it) for a rate: windows of at least one second."""
        window_ms = max(1000, math.ceil(60_000 / rate_per_minute))
        return window_ms, max(1, rate_per_minute * window_ms // 60_000)

    def acquire(self, channel: str, rate_per_minute: int, now_ms: int) -> int:
        """0 if a send may go now (and it is counted), else the milliseconds until the next window."""
        granted, wait_ms = self.reserve(channel, rate_per_minute, now_ms, 1)
        return 0 if granted else wait_ms

    def reserve(self, channel: str, rate_per_minute: int, now_ms: int, wanted: int) -> tuple[int, int]:
        """Up to `wanted` sends in the current window, counted at once: (granted, 0), or (0, ms to the next window).

        One conditional update takes them all when they fit; when they do not, the counter it found says
        how many still do, and a second update takes those (a batch of sends costs one or two writes)."""
        window_ms, limit = self.window(rate_per_minute)
        window = now_ms // window_ms
        pk, sk = keys.send_rate_key(channel, window)
        wanted = min(wanted, limit)
        for _ in range(3):  # others take slots of the same window meanwhile
            try:
                self._table.update_item(
                    Key=encode({schema.PK: pk, schema.SK: sk}), UpdateExpression="ADD used :n SET expires_at = :ttl",
                    ConditionExpression="attribute_not_exists(used) OR used <= :most",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    ExpressionAttributeValues={":n": encode_value(wanted), ":most": encode_value(limit - wanted),
                                               ":ttl": encode_value(now_ms // 1000 + 3600)})
            except ConditionFailed as failed:
                wanted = limit - int((failed.item or {}).get("used", limit))
                if wanted <= 0:
                    break
                continue
            return wanted, 0
        return 0, (window + 1) * window_ms - now_ms

    def give_back(self, channel: str, window: int, slots: int) -> None:
        """Return reserved sends that were not made (the window's counter goes down by `slots`)."""
        pk, sk = keys.send_rate_key(channel, window)
        try:
            self._table.update_item(Key=encode({schema.PK: pk, schema.SK: sk}), UpdateExpression="ADD used :n",
                                    ConditionExpression="used >= :slots",
                                    ExpressionAttributeValues={":n": encode_value(-slots),
                                                               ":slots": encode_value(slots)})
        except ConditionFailed:
            return


# -- the service ---------------------------------------------------------------------------------


@dataclass
class _Batch:
    """What one batch of send jobs reads and reserves once: campaigns, recipients, templates, send slots."""

    campaigns: dict[str, Campaign | None]
    recipients: dict[tuple[str, str], Recipient | None]
    sends_left: Counter[tuple[str, int]]  # (channel, rate) -> send jobs of the batch not yet started
    slots: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)  # -> (window, slots left)
    templates: list[MessageTemplate] | None = None
    later: list[tuple[str, str, int]] = field(default_factory=list)  # (record id, body, delay s) to put back


class Campaigns:
    def __init__(self, store: CampaignStore, rate: SendRate, contacts: ContactIndex, gate: MarketingGate,
                 templates: TemplateStore, reach: Reach, deliveries: DeliveryStore, sqs: SQSClient,
                 queue_url: Callable[[], str], metrics: Metrics, publish: Callable[[object], None]) -> None:
        self._publish = publish  # CampaignRecipientChanged, once per move of a recipient (the analytics report)
        self.store = store
        self._rate = rate
        self._contacts = contacts
        self._gate = gate
        self._templates = templates
        self._reach = reach
        self._deliveries = deliveries
        self._sqs = sqs
        self._queue_url = queue_url
        self._metrics = metrics
        self._local = threading.local()  # the batch being handled by this thread (the local stack runs many)

    # -- REST-facing ---------------------------------------------------------------------------

    def create(self, data: CampaignInput, actor: str) -> Campaign:
        versions = [t for t in self._templates.all() if t.template_id == data.template_id]
        if not versions:
            raise NotFound(f"template {data.template_id} not found", code="template_not_found")
        if not any(t.channel == data.channel for t in versions):
            raise InvalidInput(f"template {data.template_id} is not for {data.channel}", code="template_wrong_channel")
        if not any(t.channel == data.channel and t.usable for t in versions):
            raise InvalidInput(f"template {data.template_id} has no approved version", code="template_not_approved")
        campaign = Campaign(**data.model_dump(), campaign_id=ids.new_id("cmp"), created_ms=ids.now_ms(),
                            created_by=actor)
        self.store.create(campaign)
        return campaign

    def get(self, campaign_id: str) -> Campaign:
        campaign = self.store.get(campaign_id)
        if campaign is None:
            raise NotFound(f"campaign {campaign_id} not found", code="campaign_not_found")
        return campaign

    def start(self, campaign_id: str) -> Campaign:
        campaign = self.get(campaign_id)
        now = ids.now_ms()
        if not self.store.update(campaign_id, {"status": "building", "started_ms": now, "progress_ms": now},
                                 condition="#status = :draft", values={":draft": "draft"}):
            raise Conflict(f"campaign {campaign_id} is {campaign.status}, not draft", code="campaign_not_draft")
        self._enqueue(CampaignJob(type="build", campaign_id=campaign_id, step=0))
        return self.get(campaign_id)

    def cancel(self, campaign_id: str) -> Campaign:
        campaign = self.get(campaign_id)
        if not self.store.update(campaign_id, {"status": "cancelled"}, condition="#status <> :cancelled",
                                 values={":cancelled": "cancelled"}):
            raise Conflict(f"campaign {campaign_id} is already cancelled", code="campaign_cancelled")
        return campaign.model_copy(update={"status": "cancelled"})

    def report(self, campaign_id: str) -> dict[str, Any]:
        """Recipients by stage, failures and skips with their reasons (reads every recipient)."""
        campaign = self.get(campaign_id)
        counts = dict.fromkeys(("recipients", "queued", "sent", "delivered", "read", "failed", "replied",
                                "skipped"), 0)
        failures: dict[str, int] = {}
        skipped: dict[str, int] = {}
        for recipient in self.store.recipients(campaign_id):
            counts["recipients"] += 1
            stage = self._stage(recipient, campaign.channel)
            if stage.startswith("failed:"):
                counts["failed"] += 1
                reason = stage.split(":", 1)[1]
                failures[reason] = failures.get(reason, 0) + 1
            elif recipient.status == "skipped":
                counts["skipped"] += 1
                skipped[recipient.reason or "unknown"] = skipped.get(recipient.reason or "unknown", 0) + 1
            else:
                counts[stage] += 1
            if recipient.replied_ms:
                counts["replied"] += 1
        return {"campaign": campaign.model_dump(exclude={"cursor_start"}), "counts": counts,
                "failed_reasons": failures, "skipped_reasons": skipped}

    def _stage(self, recipient: Recipient, channel: str) -> str:
        if recipient.status == "failed":
            return f"failed:{recipient.reason or 'unknown'}"
        if recipient.status in ("queued", "sending"):
            return "queued"
        if recipient.status != "sent":
            return recipient.status
        if recipient.conversation_id is None or recipient.seq is None or channel in ("app", "web", "miniprogram"):
            return "sent"
        delivery = self._deliveries.delivery(recipient.conversation_id, recipient.seq) or {}
        status = delivery.get("status")
        if status in ("failed", "refused"):
            error = delivery.get("error")  # the consumer's {code, message}; a platform's failure receipt: its text
            code = error.get("code") if isinstance(error, dict) else ("platform_failed" if error else None)
            return f"failed:{code or status}"
        if status in ("delivered", "read", "sent"):
            return str(status)
        return "queued"  # still on the outbound queue

    def set_tags(self, customer_id: str, tags: list[str]) -> dict[str, Any]:
        if not self.store.set_profile_tags(customer_id, tags):
            raise NotFound(f"customer {customer_id} not found", code="customer_not_found")
        return {"customer_id": customer_id, "tags": sorted({t.lower() for t in tags})}

    # -- replies (a MessageStored subscriber) --------------------------------------------------

    def on_message(self, event: MessageStored) -> None:
        message = event.message
        if message.sender.type != "customer" or message.visibility != "public":
            return
        for mark in self.store.marks(message.sender.id):
            if int(mark.get("sent_ms", 0)) <= message.ts_ms:
                if self.store.mark_replied(mark["campaign_id"], message.sender.id, message.ts_ms):
                    self._report(mark["campaign_id"], message.sender.id, mark.get("channel") or message.channel,
                                 "replied", conversation_id=message.conversation_id, ts_ms=message.ts_ms)
                self.store.drop_mark(message.sender.id, mark["campaign_id"])

    def on_delivery_changed(self, event: DeliveryChanged) -> None:
        """A campaign message was delivered, read, or failed on its platform (once per move: see DeliveryChanged)."""
        if event.campaign_id is None:
            return
        state: CampaignRecipientState = "failed" if event.status in ("failed", "refused") else (
            "read" if event.status == "read" else "delivered")
        self._report(event.campaign_id, event.customer_id, event.channel, state,
                     reason=event.error_code if state == "failed" else None, conversation_id=event.conversation_id,
                     ts_ms=event.ts_ms)

    def _report(self, campaign_id: str, customer_id: str | None, channel: str, state: CampaignRecipientState, *,
                reason: str | None = None, conversation_id: str | None = None, ts_ms: int | None = None) -> None:
        self._publish(CampaignRecipientChanged(campaign_id=campaign_id, customer_id=customer_id, channel=channel,
                                               state=state, reason=reason, conversation_id=conversation_id,
                                               ts_ms=ts_ms if ts_ms is not None else ids.now_ms()))

    # -- the sweep: restart builds that stalled ------------------------------------------------

    def restart_stalled(self) -> int:
        restarted = 0
        now = ids.now_ms()
        for campaign in self.store.latest(limit=50):
            stalled = campaign.status == "building" and (campaign.progress_ms or 0) < now - STALLED_BUILD_MS
            if stalled and self.store.update(campaign.campaign_id, {"progress_ms": now},
                                             condition="#status = :building AND build_step = :step",
                                             values={":building": "building", ":step": campaign.build_step}):
                self._enqueue(CampaignJob(type="build", campaign_id=campaign.campaign_id, step=campaign.build_step))
                restarted += 1
        return restarted

    # -- the queue -----------------------------------------------------------------------------

    def handle_batch(self, event: dict[str, Any], context: LambdaContext | None = None) -> PartialItemFailureResponse:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        batch = self._local.batch = self._prefetch(event)
        try:
            response = process_partial_response(event=event, record_handler=self.process, processor=processor,
                                                context=context)
        finally:
            self._local.batch = None
            if batch is not None:
                self._give_back(batch)
        if batch is not None and batch.later:  # a job not put back is reported failed: SQS delivers it again
            reported = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            response["batchItemFailures"].extend({"itemIdentifier": record_id} for record_id in
                                                 sorted(self._send_later(batch) - reported))
        return response

    def _prefetch(self, event: dict[str, Any]) -> _Batch | None:
        """The batch's send jobs' campaigns and recipients in one read (None: each job reads its own)."""
        sends: set[tuple[str, str]] = set()
        for record in event.get("Records") or []:
            try:
                job = CampaignJob.model_validate_json(record.get("body") or "")
            except ValidationError:
                continue
            if job.type == "send" and job.customer_id:
                sends.add((job.campaign_id, job.customer_id))
        if not sends:
            return None
        try:
            campaigns, recipients = self.store.prefetch({c for c, _ in sends}, sends)
        except Exception:  # a throttled read: the jobs read one by one instead
            logger.exception("campaign batch prefetch failed")
            return None
        left: Counter[tuple[str, int]] = Counter()
        for campaign_id, _ in sends:
            if (campaign := campaigns.get(campaign_id)) is not None:
                left[(campaign.channel, campaign.rate)] += 1
        return _Batch(campaigns, recipients, left)

    def _give_back(self, batch: _Batch) -> None:
        """Slots reserved for sends of this batch that were not made (skipped, duplicates) go back."""
        now = ids.now_ms()
        for (channel, rate), (window, left) in batch.slots.items():
            if left > 0 and now // self._rate.window(rate)[0] == window:
                try:
                    self._rate.give_back(channel, window, left)
                except Exception:  # the window closes on its own: the slots are only lost for it
                    logger.exception("could not give back campaign send slots")

    def _unused_slot(self, campaign: Campaign, now: int) -> None:
        """A slot taken for a send that is not made goes back to the batch's reservation (given back at its end)."""
        batch: _Batch | None = getattr(self._local, "batch", None)
        key = (campaign.channel, campaign.rate)
        window = now // self._rate.window(campaign.rate)[0]
        if batch is not None and key in batch.slots and batch.slots[key][0] == window:
            batch.slots[key] = (window, batch.slots[key][1] + 1)

    def _later(self, body: str, wait_ms: int, record_id: str | None) -> None:
        """The job again after `wait_ms`: in a batch, with the batch's others in one SendMessageBatch at its end."""
        delay = min(MAX_DELAY_SECONDS, max(1, math.ceil(wait_ms / 1000)))
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is None or record_id is None:
            self._sqs.send_message(QueueUrl=self._queue_url(), MessageBody=body, DelaySeconds=delay)
        else:
            batch.later.append((record_id, body, delay))

    def _send_later(self, batch: _Batch) -> set[str]:
        """Put the batch's waiting jobs back on the queue; the records whose job could not be put back."""
        failed: set[str] = set()
        for offset in range(0, len(batch.later), 10):
            chunk = batch.later[offset:offset + 10]
            entries = [{"Id": str(n), "MessageBody": body, "DelaySeconds": delay}
                       for n, (_, body, delay) in enumerate(chunk)]
            try:
                answer = self._sqs.send_message_batch(QueueUrl=self._queue_url(), Entries=entries)  # type: ignore[arg-type]
            except Exception:
                logger.exception("could not put campaign jobs back; SQS delivers them again")
                failed.update(record_id for record_id, _, _ in chunk)
                continue
            failed.update(chunk[int(f["Id"])][0] for f in answer.get("Failed", []))
        return failed

    def _slot(self, campaign: Campaign, now: int, wanted: int) -> int:
        """0 if this send may go now (counted against the channel's rate), else the ms until the next window.

        In a batch, the first send of a channel reserves slots for the batch's other sends at once."""
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is None:
            return self._rate.acquire(campaign.channel, campaign.rate, now)
        key = (campaign.channel, campaign.rate)
        window = now // self._rate.window(campaign.rate)[0]
        held_window, left = batch.slots.get(key, (window, 0))
        if held_window == window and left > 0:
            batch.slots[key] = (window, left - 1)
            return 0
        granted, wait_ms = self._rate.reserve(campaign.channel, campaign.rate, now, max(1, wanted))
        batch.slots[key] = (window, max(0, granted - 1))
        return 0 if granted else wait_ms

    def process(self, record: SQSRecord) -> str:
        try:
            job = CampaignJob.model_validate_json(record.body)
        except ValidationError:
            self._metrics.add_metric(name="CampaignJobsMalformed", unit="Count", value=1)
            return "malformed"
        if job.type == "build":
            return self.build_page(job.campaign_id, job.step or 0)
        return self.send_one(job.campaign_id, job.customer_id or "", record.body, record.message_id)

    def build_page(self, campaign_id: str, step: int) -> str:
        campaign = self.store.get(campaign_id)
        if campaign is None or campaign.status != "building" or campaign.build_step != step:
            return "duplicate"
        segment = campaign.segment
        contacts, next_start = self._contacts.page(campaign.channel, campaign.cursor_shard,
                                                   after_ms=segment.last_contact_after_ms,
                                                   before_ms=segment.last_contact_before_ms,
                                                   start=campaign.cursor_start, limit=PAGE_SIZE)
        enqueued = campaign.enqueued
        jobs: list[tuple[CampaignJob, int]] = []
        for contact in contacts:
            reason = self._refusal(campaign, contact.customer_id)
            recipient = Recipient(campaign_id=campaign_id, customer_id=contact.customer_id,
                                  status="skipped" if reason else "queued", reason=reason,
                                  index=None if reason else enqueued)
            existing = self.store.add_recipient(recipient)
            if existing is not None:  # this page ran before: send what is still waiting (the claim dedups)
                recipient = existing
            else:
                self._report(campaign_id, contact.customer_id, campaign.channel, "skipped" if reason else "queued",
                             reason=reason)
            if recipient.status == "queued":
                index = recipient.index if recipient.index is not None else enqueued
                jobs.append((CampaignJob(type="send", campaign_id=campaign_id, customer_id=contact.customer_id),
                             index))
                if existing is None:
                    enqueued += 1
        self._enqueue_sends(campaign, jobs)
        shard, start = (campaign.cursor_shard, next_start) if next_start else (campaign.cursor_shard + 1, None)
        done = shard >= len(list(self._contacts.shards()))
        fields: dict[str, Any] = {"build_step": step + 1, "cursor_shard": shard, "cursor_start": start,
                                  "enqueued": enqueued, "progress_ms": ids.now_ms()}
        if done:
            fields.update(status="sending", built_ms=ids.now_ms())
        if not self.store.update(campaign_id, fields, condition="#status = :building AND build_step = :step",
                                 values={":building": "building", ":step": step}):
            return "duplicate"
        if not done:
            self._enqueue(CampaignJob(type="build", campaign_id=campaign_id, step=step + 1))
        return "built"

    def _refusal(self, campaign: Campaign, customer_id: str) -> str | None:
        if campaign.segment.tags and not set(campaign.segment.tags) <= self.store.profile_tags(customer_id):
            return "not_in_segment"
        return self._gate.refusal(customer_id, campaign.channel, opted_in_only=campaign.segment.opted_in_only)

    def send_one(self, campaign_id: str, customer_id: str, body: str, record_id: str | None = None) -> str:
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is not None and campaign_id in batch.campaigns:
            campaign = batch.campaigns[campaign_id]
        else:
            campaign = self.store.get(campaign_id)
        if batch is not None and (campaign_id, customer_id) in batch.recipients:
            recipient = batch.recipients.pop((campaign_id, customer_id))  # a second job of it in the batch reads again
        else:
            recipient = self.store.recipient(campaign_id, customer_id)
        if campaign is None or recipient is None:
            return "unknown"
        wanted = 1
        if batch is not None:  # this send and the batch's later ones of the same channel and rate
            wanted = batch.sends_left[(campaign.channel, campaign.rate)]
            batch.sends_left[(campaign.channel, campaign.rate)] -= 1
        now = ids.now_ms()
        if recipient.status not in ("queued", "sending"):
            return "done"
        if recipient.status == "sending" and (recipient.lease_until_ms or 0) >= now:
            # another attempt holds it (or one that died holding it): look again when its lease ends
            self._later(body, (recipient.lease_until_ms or now) - now, record_id)
            return "leased"
        if campaign.status == "cancelled":
            if self.store.move_recipient(campaign_id, customer_id, "skipped", ("queued",), {"reason": "cancelled"}):
                self._report(campaign_id, customer_id, campaign.channel, "skipped", reason="cancelled")
            return "cancelled"
        # the rate first: a job that must wait costs no more reads (it comes back in the next window)
        wait_ms = self._slot(campaign, now, wanted)
        if wait_ms:
            self._later(body, wait_ms, record_id)
            return "paced"
        reason = self._refusal(campaign, customer_id)
        if reason is not None:  # they opted out (or withdrew consent) after the build
            self._unused_slot(campaign, now)
            if self.store.move_recipient(campaign_id, customer_id, "skipped", ("queued",), {"reason": reason},
                                         now_ms=now):
                self._report(campaign_id, customer_id, campaign.channel, "skipped", reason=reason)
            self._metrics.add_metric(name="CampaignRecipientsSkipped", unit="Count", value=1)
            return "skipped"
        if not self.store.move_recipient(campaign_id, customer_id, "sending", ("queued",),
                                         {"lease_until_ms": now + LEASE_MS}, now_ms=now):
            self._unused_slot(campaign, now)
            return "done"
        try:
            return self._post(campaign, customer_id)
        except Exception:
            # a fault halfway (a throttled write, a timeout): let go of the claim so that the redelivery
            # takes it at once and resumes; the message's dedup key keeps it posted once
            self.store.move_recipient(campaign_id, customer_id, "queued", ("sending",))
            raise

    def _post(self, campaign: Campaign, customer_id: str) -> str:
        campaign_id = campaign.campaign_id
        try:
            dest = self._reach.destination(customer_id, campaign.channel)
            params = {k: v.replace("{customer_name}", dest.customer_name or "") for k, v in campaign.params.items()}
            batch: _Batch | None = getattr(self._local, "batch", None)
            if batch is not None and batch.templates is None:
                batch.templates = self._templates.all()  # once per batch, not once per recipient
            composed = self._reach.compose(dest, choice=TemplateChoice(template_id=campaign.template_id, params=params),
                                           among=batch.templates if batch is not None else None)
            result = self._reach.deliver(dest, Sender(type="system", id="campaigns", name=campaign.name), composed,
                                         DedupKey("campaign", (campaign_id, customer_id)),
                                         extra_meta={"outreach": "campaign", "campaign_id": campaign_id,
                                                     "marketing": composed.category == "marketing"})
        except DomainError as exc:
            if self.store.move_recipient(campaign_id, customer_id, "failed", ("sending",),
                                         {"reason": exc.code, "error": exc.message[:500]}):
                self._report(campaign_id, customer_id, campaign.channel, "failed", reason=exc.code)
            self._metrics.add_metric(name="CampaignRecipientsFailed", unit="Count", value=1)
            return "failed"
        message = result.message
        sent_ms = ids.now_ms()
        self.store.put_mark(customer_id, campaign_id, sent_ms, campaign.channel)
        if self.store.move_recipient(campaign_id, customer_id, "sent", ("sending",),
                                     {"conversation_id": message.conversation_id, "seq": message.seq,
                                      "message_id": message.message_id, "sent_ms": sent_ms, "mode": composed.mode}):
            self._report(campaign_id, customer_id, campaign.channel, "sent", conversation_id=message.conversation_id,
                         ts_ms=sent_ms)
        self._metrics.add_metric(name="CampaignMessagesSent", unit="Count", value=1)
        return "sent"

    def _enqueue(self, job: CampaignJob, delay: int = 0) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url(), MessageBody=job.model_dump_json(exclude_none=True),
                               DelaySeconds=delay)

    def _enqueue_sends(self, campaign: Campaign, jobs: list[tuple[CampaignJob, int]]) -> None:
        """Send jobs spread by their place in the campaign (the limiter is exact; this saves it churn)."""
        elapsed_s = max(0, (ids.now_ms() - (campaign.started_ms or ids.now_ms())) // 1000)
        for offset in range(0, len(jobs), 10):
            entries = []
            for n, (job, index) in enumerate(jobs[offset:offset + 10]):
                delay = int(index * 60 / campaign.rate) - elapsed_s
                entries.append({"Id": str(n), "MessageBody": job.model_dump_json(exclude_none=True),
                                "DelaySeconds": max(0, min(MAX_DELAY_SECONDS, delay))})
            answer = self._sqs.send_message_batch(QueueUrl=self._queue_url(), Entries=entries)  # type: ignore[arg-type]
            if answer.get("Failed"):
                raise RuntimeError(f"could not enqueue {len(answer['Failed'])} campaign sends")
