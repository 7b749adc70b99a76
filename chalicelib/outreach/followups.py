"""Follow-ups: messages scheduled for later, sent once, on time, and not at all if the customer wrote first.

Kinds (each scheduled by a subscriber of a domain event):

- `resolution_check`: FOLLOWUP_RESOLUTION_DAYS (default 3; 0 turns it off) after a conversation was
  resolved, "Is your problem solved?" with two quick replies (`ConversationResolved`);
- `ticket_pending`: FOLLOWUP_TICKET_PENDING_HOURS (default 48; 0 off) after a ticket went to
  `pending` (waiting on the customer), a reminder to answer (`TicketChanged`); cancelled when the
  ticket moves on (open, solved, closed).

Reminders to agents for tickets that are due are the tickets domain's SLA sweep
(`TicketService.check_sla`: breach alerts and `sla_reminder_minutes` reminders to the assignee).

A follow-up is one item in the customer's partition (`OUTREACH#FOLLOWUP#<id>`, its id derived from
what caused it, so a redelivered event schedules it once), listed by due time on a sparse index
(`FOLLOWUP#DUE`) while it is `scheduled`. SQS delays are at most 15 minutes, so the minute's sweep
moves follow-ups due within that horizon to the follow-up queue with their remaining delay
(`queued`); the consumer claims each (`sending`, with a lease), posts it into the customer's
conversation through `Reach` (a template outside the channel's window), with a dedup key of its
own, and marks it `sent`. Any customer message after it was scheduled cancels it (`scheduled` or
`queued` -> `cancelled`), and a cancelled follow-up is never claimed.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib import ids
from chalicelib.core.models import DedupKey, Sender
from chalicelib.errors import DomainError
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

    from chalicelib.core.events import ConversationResolved, MessageStored, TicketChanged
    from chalicelib.outreach.reach import Reach
    from chalicelib.store.table import Table

logger = Logger(child=True)

FollowUpKind = Literal["resolution_check", "ticket_pending"]
FollowUpStatus = Literal["scheduled", "queued", "sending", "sent", "cancelled", "failed"]
HORIZON_MS = 900_000  # SQS's longest delay
LEASE_MS = 60_000
SWEEP_LIMIT = 500
RETENTION_SECONDS = 90 * 24 * 3600  # finished follow-ups stay for the report, then expire (TTL)


class FollowUpSettings(BaseModel):
    resolution_days: float = 3.0
    ticket_pending_hours: float = 48.0

    @classmethod
    def from_env(cls) -> FollowUpSettings:
        return cls(resolution_days=float(os.environ.get("FOLLOWUP_RESOLUTION_DAYS") or 3),
                   ticket_pending_hours=float(os.environ.get("FOLLOWUP_TICKET_PENDING_HOURS") or 48))


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="ignore")

    followup_id: str
    customer_id: str
    kind: FollowUpKind
    due_ms: int
    created_ms: int
    status: FollowUpStatus = "scheduled"
    conversation_id: str | None = None
    ticket_id: str | None = None
    lease_until_ms: int | None = None
    sent_ms: int | None = None
    message_id: str | None = None
    sent_conversation_id: str | None = None
    mode: str | None = None
    reason: str | None = None


class FollowUpJob(BaseModel):
    customer_id: str
    followup_id: str


class FollowUpStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _key(self, customer_id: str, followup_id: str) -> dict[str, Any]:
        return encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.followup_sk(followup_id)})

    def schedule(self, followup: FollowUp) -> bool:
        """Write a new scheduled follow-up; False if this one was scheduled before (a redelivered event)."""
        gsi2pk, gsi2sk = keys.followup_due_gsi2(followup.due_ms, followup.customer_id, followup.followup_id)
        item = {schema.PK: keys.customer_pk(followup.customer_id), schema.SK: keys.followup_sk(followup.followup_id),
                schema.GSI2_PK: gsi2pk, schema.GSI2_SK: gsi2sk, "type": "followup",
                **followup.model_dump(exclude_none=True)}
        try:
            self._table.put_item(Item=encode(item), ConditionExpression="attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def get(self, customer_id: str, followup_id: str) -> FollowUp | None:
        item = self._table.get(self._key(customer_id, followup_id), consistent=True)
        return FollowUp.model_validate(item) if item else None

    def for_customer(self, customer_id: str) -> list[FollowUp]:
        items = self._table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)", ConsistentRead=True,
            ExpressionAttributeValues={":pk": encode_value(keys.customer_pk(customer_id)),
                                       ":prefix": encode_value(keys.FOLLOWUP_SK_PREFIX)})
        return [FollowUp.model_validate(decode(i)) for i in items]

    def due(self, until_ms: int, limit: int = SWEEP_LIMIT) -> list[FollowUp]:
        page = self._table.query(IndexName=schema.GSI2, Limit=limit,
                                 KeyConditionExpression="gsi2pk = :pk AND gsi2sk <= :until",
                                 ExpressionAttributeValues={":pk": encode_value(keys.FOLLOWUP_DUE_GSI2_PK),
                                                            ":until": encode_value(f"{until_ms:013d}~")})
        return [FollowUp.model_validate(decode(i)) for i in page.get("Items", [])]

    def _move(self, followup: FollowUp, to: FollowUpStatus, allowed: tuple[str, ...], *,
              fields: dict[str, Any] | None = None, remove: str = "") -> bool:
        """Move the follow-up to `to` if its status is one of `allowed`, setting `fields` too."""
        placeholders = {f":from{i}": encode_value(s) for i, s in enumerate(allowed)}
        sets = ["#status = :to", *(f"#f_{name} = :f_{name}" for name in fields or {})]
        expression = "SET " + ", ".join(sets) + (f" REMOVE {remove}" if remove else "")
        try:
            self._table.update_item(
                Key=self._key(followup.customer_id, followup.followup_id), UpdateExpression=expression,
                ConditionExpression=f"#status IN ({', '.join(placeholders)})",
                ExpressionAttributeNames={**names("status"), **{f"#f_{name}": name for name in fields or {}}},
                ExpressionAttributeValues={":to": encode_value(to), **placeholders,
                                           **{f":f_{k}": encode_value(v) for k, v in (fields or {}).items()}})
        except ConditionFailed:
            return False
        return True

    def mark_queued(self, followup: FollowUp) -> bool:
        return self._move(followup, "queued", ("scheduled",), remove="gsi2pk, gsi2sk")

    def claim(self, followup: FollowUp, now_ms: int) -> bool:
        """Take the right to send it: scheduled or queued (or a sender's lease ran out) -> sending."""
        try:
            self._table.update_item(
                Key=self._key(followup.customer_id, followup.followup_id),
                UpdateExpression="SET #status = :sending, lease_until_ms = :lease REMOVE gsi2pk, gsi2sk",
                ConditionExpression=("#status IN (:scheduled, :queued)"
                                     " OR (#status = :sending AND lease_until_ms < :now)"),
                ExpressionAttributeNames=names("status"),
                ExpressionAttributeValues={":sending": encode_value("sending"),
                                           ":lease": encode_value(now_ms + LEASE_MS),
                                           ":scheduled": encode_value("scheduled"), ":queued": encode_value("queued"),
                                           ":now": encode_value(now_ms)})
        except ConditionFailed:
            return False
        return True

    def finish(self, followup: FollowUp, status: Literal["sent", "failed"], **fields: Any) -> None:
        expires = ids.now_ms() // 1000 + RETENTION_SECONDS
        self._move(followup, status, ("sending",), fields={**fields, schema.TTL_ATTRIBUTE: expires})

    def cancel(self, followup: FollowUp, reason: str) -> bool:
        expires = ids.now_ms() // 1000 + RETENTION_SECONDS
        return self._move(followup, "cancelled", ("scheduled", "queued"),
                          fields={"reason": reason, "cancelled_ms": ids.now_ms(), schema.TTL_ATTRIBUTE: expires},
                          remove="gsi2pk, gsi2sk")


class FollowUps:
    """Schedules follow-ups (event subscribers), cancels them, and sends the due ones (sweep + consumer)."""

    def __init__(self, store: FollowUpStore, reach: Reach, sqs: SQSClient, queue_url: Callable[[], str],
                 settings: FollowUpSettings, metrics: Metrics) -> None:
        self.store = store
        self._reach = reach
        self._sqs = sqs
        self._queue_url = queue_url
        self._settings = settings
        self._metrics = metrics

    # -- scheduling (subscribers) --------------------------------------------------------------

    def on_resolved(self, event: ConversationResolved) -> None:
        if self._settings.resolution_days <= 0:
            return
        due = event.ts_ms + int(self._settings.resolution_days * 86_400_000)
        self.store.schedule(FollowUp(followup_id=f"resolution-{event.conversation_id}", customer_id=event.customer_id,
                                     kind="resolution_check", due_ms=due, created_ms=event.ts_ms,
                                     conversation_id=event.conversation_id))

    def on_ticket_changed(self, event: TicketChanged) -> None:
        if event.customer_id is None:
            return
        if event.to_status == "pending" and self._settings.ticket_pending_hours > 0:
            due = event.ts_ms + int(self._settings.ticket_pending_hours * 3_600_000)
            self.store.schedule(FollowUp(followup_id=f"ticket-{event.ticket_id}-{event.ts_ms}",
                                         customer_id=event.customer_id, kind="ticket_pending", due_ms=due,
                                         created_ms=event.ts_ms, ticket_id=event.ticket_id,
                                         conversation_id=event.conversation_id))
            return
        for followup in self.store.for_customer(event.customer_id):
            if followup.ticket_id == event.ticket_id and followup.status in ("scheduled", "queued"):
                self.store.cancel(followup, f"ticket_{event.to_status}")

    def on_message(self, event: MessageStored) -> None:
        """The customer wrote: every follow-up scheduled before their message is cancelled."""
        message = event.message
        if message.sender.type != "customer" or message.visibility != "public":
            return
        for followup in self.store.for_customer(message.sender.id):
            pending = followup.status in ("scheduled", "queued") and followup.created_ms <= message.ts_ms
            if pending and self.store.cancel(followup, "customer_wrote_first"):
                self._metrics.add_metric(name="FollowUpsCancelled", unit="Count", value=1)

    # -- sending -------------------------------------------------------------------------------

    def sweep(self) -> int:
        """Move follow-ups due within SQS's delay horizon to the queue; the number moved."""
        now = ids.now_ms()
        moved = 0
        for followup in self.store.due(now + HORIZON_MS):
            delay = max(0, min(900, (followup.due_ms - now + 999) // 1000))
            # enqueue first: a crash before mark_queued leaves it scheduled, and the next sweep sends a
            # second job, which the claim turns away
            self._sqs.send_message(QueueUrl=self._queue_url(), DelaySeconds=int(delay), MessageBody=FollowUpJob(
                customer_id=followup.customer_id, followup_id=followup.followup_id).model_dump_json())
            if self.store.mark_queued(followup):
                moved += 1
        return moved

    def handle_batch(self, event: dict[str, Any], context: LambdaContext | None = None) -> PartialItemFailureResponse:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(event=event, record_handler=self.process, processor=processor,
                                        context=context)

    def process(self, record: SQSRecord) -> str:
        try:
            job = FollowUpJob.model_validate_json(record.body)
        except ValidationError:
            self._metrics.add_metric(name="FollowUpsMalformed", unit="Count", value=1)
            return "malformed"
        followup = self.store.get(job.customer_id, job.followup_id)
        if followup is None or followup.status not in ("scheduled", "queued", "sending"):
            return "skipped"
        now = ids.now_ms()
        if followup.due_ms > now + 1000:  # early (a sweep of a clock ahead, a short delay): not yet
            self._sqs.send_message(QueueUrl=self._queue_url(), MessageBody=record.body,
                                   DelaySeconds=int(min(900, (followup.due_ms - now + 999) // 1000)))
            return "early"
        if not self.store.claim(followup, now):
            return "skipped"
        try:
            sent = self._send(followup)
        except DomainError as exc:  # unreachable (no identity, no template outside the window): final
            self.store.finish(followup, "failed", reason=f"{exc.code}: {exc.message}"[:500])
            self._metrics.add_metric(name="FollowUpsFailed", unit="Count", value=1)
            logger.warning("follow-up could not be sent", extra={"followup_id": followup.followup_id,
                                                                 "code": exc.code})
            return "failed"
        self.store.finish(followup, "sent", **sent)
        self._metrics.add_metric(name="FollowUpsSent", unit="Count", value=1)
        return "sent"

    def _send(self, followup: FollowUp) -> dict[str, Any]:
        dest = self._reach.destination(followup.customer_id)
        say, language = self._reach.text, dest.language
        if followup.kind == "resolution_check":
            words = say("outreach.followup.resolution_check", language)
            quick = [{"title": say("outreach.followup.solved", language), "payload": "FOLLOWUP_SOLVED"},
                     {"title": say("outreach.followup.not_solved", language), "payload": "FOLLOWUP_NOT_SOLVED"}]
        else:
            words = say("outreach.followup.ticket_pending", language, ticket_id=followup.ticket_id or "")
            quick = []
        composed = self._reach.compose(dest, text=words, purpose=f"followup.{followup.kind}", quick_replies=quick,
                                       values={"ticket_id": followup.ticket_id or ""})
        result = self._reach.deliver(dest, Sender(type="system", id="followups"), composed,
                                     DedupKey("followup", (followup.customer_id, followup.followup_id)),
                                     extra_meta={"outreach": "followup", "followup_id": followup.followup_id,
                                                 "followup_kind": followup.kind,
                                                 "regarding": json.dumps({"conversation_id": followup.conversation_id,
                                                                          "ticket_id": followup.ticket_id})})
        return {"sent_ms": ids.now_ms(), "message_id": result.message.message_id,
                "sent_conversation_id": result.message.conversation_id, "mode": composed.mode}
