"""Identifiers and timestamps.

Server ids are ULIDs: 48 bits of milliseconds and 80 random bits in Crockford base32, so they sort
by creation time, are safe in URLs and DynamoDB keys, and need no coordination between functions.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str = "") -> str:
    """Return a new time-ordered id such as `msg_01JD3...`."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    ulid = "".join(reversed(chars))
    return f"{prefix}_{ulid}" if prefix else ulid


def now_ms() -> int:
    return int(time.time() * 1000)


def iso_from_ms(ms: int) -> str:
    """UTC ISO-8601 with milliseconds and a `Z`, the one timestamp format on the wire."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
