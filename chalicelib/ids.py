"""Identifiers and timestamps.

Server ids are ULIDs: 48 bits of milliseconds and 80 random bits in Crockford base32, so they sort
by creation time, are safe in URLs and DynamoDB keys, and need no coordination between functions.

`now_ms()` is the one clock of the Lambda code. It reads `time.time` unless `set_clock` installed
another source: the local stack does so when started with `--simulated-clock` (see
`local/clock.py`), so a simulator can play a month of traffic in minutes. Lambda never calls it.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

_clock: Callable[[], float] = time.time  # seconds since the epoch


def set_clock(clock: Callable[[], float] | None) -> None:
    """Install the time source (seconds since the epoch) behind `now_ms`; None restores `time.time`."""
    global _clock
    _clock = clock or time.time


def new_id(prefix: str = "") -> str:
    """Return a new time-ordered id such as `msg_01JD3...`."""
    value = (now_ms() << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    ulid = "".join(reversed(chars))
    return f"{prefix}_{ulid}" if prefix else ulid


def now_ms() -> int:
    return int(_clock() * 1000)


def iso_from_ms(ms: int) -> str:
    """UTC ISO-8601 with milliseconds and a `Z`, the one timestamp format on the wire."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def datetime_from_ms(ms: int) -> datetime:
    """A platform-clock time in ms as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
