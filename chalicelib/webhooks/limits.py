"""How much of one inbound platform message is stored, and where the rest goes (issue 13, class 4).

A signed body may carry a text far beyond what a DynamoDB item holds (400 KB, and the message is
written twice: its idempotency record carries it too). Texts longer than `MAX_INBOUND_TEXT_CHARS`
are stored capped; the full original goes to S3 first, under a key derived from the channel and
the platform's event key (a retried delivery overwrites the same object with the same bytes), and
the message's `meta.original_text` says where: `{"s3_key", "chars", "bytes"}`. So a 900 KB e-mail
is answered 200 and stored, and nothing in the item can exceed its limit.

`plan` is pure and runs for every event of a body before anything is written, so a body whose
second event is refused writes nothing at all; `keep` then writes the originals, and only then are
messages recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.channels.errors import MalformedPayload

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from chalicelib.channels.models import InboundEvent

MAX_INBOUND_TEXT_CHARS = 16_000
# What a stored message item may hold at most (of DynamoDB's 400 KB), checked before the first write.
MAX_MESSAGE_ITEM_BYTES = 200_000
ORIGINALS_PREFIX = "inbound-originals/"


@dataclass(frozen=True)
class PlannedEvent:
    event: InboundEvent  # as it will be stored (text capped)
    original_text: str | None = None  # the full text, when it was capped
    s3_key: str | None = None

    @property
    def original_meta(self) -> dict[str, Any] | None:
        if self.original_text is None:
            return None
        return {"s3_key": self.s3_key, "chars": len(self.original_text),
                "bytes": len(self.original_text.encode("utf-8"))}


def original_key(event: InboundEvent) -> str:
    """Where the full text of `event` is kept: one object per channel and platform event key."""
    digest = hashlib.sha256(f"{event.channel}\n{event.event_key}".encode()).hexdigest()
    return f"{ORIGINALS_PREFIX}{event.channel}/{digest}.txt"


def plan(event: InboundEvent) -> PlannedEvent:
    """The event as it will be stored; `MalformedPayload` if even capped it cannot be stored."""
    planned = PlannedEvent(event)
    if event.text is not None and len(event.text) > MAX_INBOUND_TEXT_CHARS:
        capped = event.model_copy(update={"text": event.text[:MAX_INBOUND_TEXT_CHARS]})
        planned = PlannedEvent(capped, event.text, original_key(event))
    size = len(planned.event.model_dump_json().encode("utf-8"))
    if size > MAX_MESSAGE_ITEM_BYTES:
        raise MalformedPayload(f"event {event.event_key[:64]!r} is too large to store ({size} bytes)")
    return planned


class OriginalTexts:
    """Full texts of capped inbound messages, in S3 (the analytics bucket, encrypted, private)."""

    def __init__(self, s3_client: S3Client, bucket: str) -> None:
        self._s3 = s3_client
        self._bucket = bucket

    def keep(self, planned: PlannedEvent) -> None:
        if planned.original_text is None or planned.s3_key is None:
            return
        self._s3.put_object(Bucket=self._bucket, Key=planned.s3_key, Body=planned.original_text.encode("utf-8"),
                            ContentType="text/plain; charset=utf-8",
                            Metadata={"channel": planned.event.channel})
