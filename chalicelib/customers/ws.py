"""The customers' `consent` frame on the chat socket (issue 16): opting in to or out of marketing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.chat.extension import FrameExtension
from chalicelib.errors import Forbidden
from chalicelib.realtime import frames

if TYPE_CHECKING:
    from chalicelib.customers.consent import ConsentStore
    from chalicelib.store.connection_store import Connection


def customer_consent_frames(consent: ConsentStore) -> FrameExtension:
    def set_consent(connection: Connection, frame: frames.SetConsent) -> dict[str, Any]:
        if connection.owner_type != "customer":
            raise Forbidden("the consent frame is for customers", code="forbidden")
        record = consent.record(connection.owner_id, frame.channel, frame.granted, "customer")
        return frames.consent(record.channel, record.granted, record.at_ms)

    return FrameExtension(models={"consent": frames.SetConsent}, handlers={frames.SetConsent: set_consent})
