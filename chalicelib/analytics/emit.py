"""Recording interactions: ``InteractionRecorder.emit(event)``. Never raises.

``event`` is a model of ``chalicelib.analytics.events`` or a dict with its fields; a dict may carry
the raw ``customer_id`` instead of ``customer_pid`` (the publisher replaces it by its keyed
pseudonym). The rest of the platform does not call this: it publishes domain events, and the one
analytics subscriber (``chalicelib.analytics.subscriber``) records them here.

Inside a Lambda invocation the Powertools middleware (``chalicelib.observability``) opens
``batch()``: events are buffered per thread and sent with one PutRecords when the invocation ends,
after the customer's frame has been answered, together with one UpdateItem per day on the live
counters (``chalicelib.analytics.live``). Outside an invocation (scripts, the CLI) each ``emit``
is sent at once. Publishing failures are logged and counted, never raised: the customer's message
path must not depend on analytics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from .events import BaseEvent

log = Logger(child=True)

# A long-running invocation (a big Kinesis or SQS batch) flushes early rather than holding thousands.
MAX_BUFFERED = 500

Event = BaseEvent | Mapping[str, Any]


class Publishes(Protocol):
    def publish_many(self, events: Iterable[Event]) -> object: ...


class Counts(Protocol):
    def record(self, events: Iterable[Event]) -> object: ...


class InteractionRecorder:
    """Buffers interaction events per thread and invocation; sends them through the publisher.

    The publisher and the live counters are given as factories: building them needs the pseudonym
    secret and AWS clients, which only the first flush should pay for (and whose failure it absorbs).
    """

    def __init__(self, publisher: Callable[[], Publishes], live_counters: Callable[[], Counts]) -> None:
        self._publisher = publisher
        self._live_counters = live_counters
        self._local = threading.local()

    def _state(self) -> tuple[list[Event], list[int]]:
        if not hasattr(self._local, "buffer"):
            self._local.buffer, self._local.depth = [], [0]
        return self._local.buffer, self._local.depth

    def emit(self, event: Event) -> None:
        """Record one interaction event (buffered inside an invocation, sent at once outside)."""
        self.emit_many([event])

    def emit_many(self, events: Iterable[Event]) -> None:
        try:
            buffer, depth = self._state()
            buffer.extend(events)
            if not depth[0] or len(buffer) >= MAX_BUFFERED:
                self.flush()
        except Exception:  # analytics must never break the caller
            log.exception("analytics emit failed")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Buffer every ``emit`` of this thread until the outermost ``batch`` exits, then flush."""
        _, depth = self._state()
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                self.flush()

    def pending(self) -> int:
        """Events buffered by this thread and not yet sent."""
        return len(self._state()[0])

    def flush(self) -> object:
        """Send this thread's buffered events now; returns the ``PublishResult`` (None if nothing/failed)."""
        buffer, _ = self._state()
        if not buffer:
            return None
        events = list(buffer)
        buffer.clear()
        result = None
        try:
            result = self._publisher().publish_many(events)
        except Exception:  # e.g. PSEUDONYM_KEY not configured: drop, log, keep serving customers
            log.exception("analytics publisher unavailable; events dropped", extra={"dropped": len(events)})
        try:
            self._live_counters().record(events)
        except Exception:
            log.exception("live counters update failed")
        return result
