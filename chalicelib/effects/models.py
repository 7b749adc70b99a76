"""The effects queue's record."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.models import Message


class EffectsJob(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: Message
    redelivered: bool = False
    origin_connection: str | None = Field(default=None, max_length=256)
    # the message's idempotency record, marked `effects_done` once every effect happened
    dedup_pk: str | None = Field(default=None, max_length=2048)
