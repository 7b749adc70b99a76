"""The one call the rest of the platform makes to record an interaction: ``emit(event)``. Never raises.

``event`` is a model of ``chalicelib.analytics.events`` or a dict with its fields; a dict may carry
the raw ``customer_id`` instead of ``customer_pid`` (the publisher replaces it by its keyed
pseudonym), e.g.::

    from chalicelib.analytics.emit import emit
    emit({"event_type": "assignment", "ts": iso_ts, "conversation_id": cid, "customer_id": customer,
          "channel": "app", "agent_id": agent, "wait_seconds": 42.0})

Inside a Lambda invocation the Powertools middleware (``chalicelib.observability``) opens
``batch()``: events are buffered per thread and sent with one PutRecords when the invocation ends,
after the customer's frame has been answered, together with one UpdateItem per day on the live
counters (``chalicelib.analytics.live``). Outside an invocation (scripts, the CLI) each ``emit``
is sent at once. Publishing failures are logged and counted, never raised: the customer's message
path must not depend on analytics.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger

from .events import BaseEvent

log = Logger(child=True)

# A long-running invocation (a big Kinesis or SQS batch) flushes early rather than holding thousands.
MAX_BUFFERED = 500

_local = threading.local()


def _state() -> tuple[list[Any], list[int]]:
    if not hasattr(_local, "buffer"):
        _local.buffer, _local.depth = [], [0]
    return _local.buffer, _local.depth


def emit(event: BaseEvent | Mapping[str, Any]) -> None:
    """Record one interaction event (buffered inside an invocation, sent at once outside)."""
    emit_many([event])


def emit_many(events: Iterable[BaseEvent | Mapping[str, Any]]) -> None:
    try:
        buffer, depth = _state()
        buffer.extend(events)
        if not depth[0] or len(buffer) >= MAX_BUFFERED:
            flush()
    except Exception:  # analytics must never break the caller
        log.exception("analytics emit failed")


@contextmanager
def batch() -> Iterator[None]:
    """Buffer every ``emit`` of this thread until the outermost ``batch`` exits, then flush."""
    _, depth = _state()
    depth[0] += 1
    try:
        yield
    finally:
        depth[0] -= 1
        if depth[0] == 0:
            flush()


def pending() -> int:
    """Events buffered by this thread and not yet sent."""
    return len(_state()[0])


def flush() -> Any:
    """Send this thread's buffered events now; returns the ``PublishResult`` (None if nothing/failed)."""
    buffer, _ = _state()
    if not buffer:
        return None
    events = list(buffer)
    buffer.clear()
    from chalicelib import wiring

    result = None
    try:
        result = wiring.analytics().publish_many(events)
    except Exception:  # e.g. PSEUDONYM_KEY not configured: drop, log, keep serving customers
        log.exception("analytics publisher unavailable; events dropped", extra={"dropped": len(events)})
    try:
        wiring.live_counters().record(events)
    except Exception:
        log.exception("live counters update failed")
    return result


def emit_for(event_type: str, *, conversation_id: str, customer_id: str, channel: str,
             ts_ms: int | None = None, **fields: Any) -> None:
    """Shorthand for the other domains: ``emit_for("assignment", conversation_id=…, customer_id=…,
    channel=…, agent_id=…, wait_seconds=…)``; ``ts_ms`` defaults to now (the platform clock)."""
    try:
        from chalicelib import ids

        emit({"event_type": event_type, "ts": ids.iso_from_ms(ts_ms if ts_ms is not None else ids.now_ms()),
              "conversation_id": conversation_id, "customer_id": customer_id, "channel": channel, **fields})
    except Exception:
        log.exception("analytics emit failed")
