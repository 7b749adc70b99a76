"""Test helpers: pseudonyms and compact event builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.analytics.redact import pseudonymise

KEY = "test-pseudonym-key"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)  # a Monday


def pid(customer_id: str) -> str:
    return pseudonymise(customer_id, KEY)


def ev(
    event_type: str, conv: str, minutes: float, *, customer: str = "cust", channel: str = "app", **fields: Any
) -> dict[str, Any]:
    """An event dict at ``T0 + minutes`` for conversation ``conv``."""
    return {
        "event_type": event_type,
        "ts": (T0 + timedelta(minutes=minutes)).isoformat(),
        "conversation_id": conv,
        "customer_pid": pid(customer),
        "channel": channel,
        **fields,
    }
