"""One way of reacting to what happened: typed events dispatched to an explicit subscriptions table.

- **Order is the table's.** Each event type maps to a tuple of subscribers called in that order.
  A subscriber may return `CONSUMED` to stop the later ones (a survey answer is not a question for
  the bot); anything else lets dispatch go on.
- **No re-entrancy.** An event published while another is being dispatched (the bot's reply while
  the customer's message is handled) waits in this thread's queue and is dispatched after every
  subscriber of the current event has run: first in, first out, never nested.
- **Isolation.** A subscriber's failure is reported through `on_error` and does not stop the others,
  nor undo what was published: the event stands.
- **Lazy.** The table is resolved on the first publish, so building the bus builds no subscriber
  (and no AWS client) until something happens.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

# Each subscriber takes the one event type it is listed under (hence Any here, checked by the table's types).
Subscriber = Callable[[Any], object]
Subscriptions = Mapping[type, Sequence[Subscriber]]


class _Consumed:
    def __repr__(self) -> str:
        return "CONSUMED"


CONSUMED: Final = _Consumed()


class EventBus:
    def __init__(self, subscriptions: Callable[[], Subscriptions],
                 on_error: Callable[[Subscriber, object, Exception], None]) -> None:
        self._resolve = subscriptions
        self._table: Subscriptions | None = None
        self._on_error = on_error
        self._local = threading.local()
        self._lock = threading.Lock()

    def publish(self, event: object) -> None:
        """Dispatch `event` now, or after the event being dispatched on this thread, if any."""
        queue: deque[object] | None = getattr(self._local, "queue", None)
        if queue is not None:
            queue.append(event)
            return
        queue = self._local.queue = deque([event])
        try:
            while queue:
                self._dispatch(queue.popleft())
        finally:
            self._local.queue = None

    def subscribers(self, event_type: type) -> Sequence[Subscriber]:
        return self._subscriptions().get(event_type, ())

    def _subscriptions(self) -> Subscriptions:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = self._resolve()
        return self._table

    def _dispatch(self, event: object) -> None:
        for subscriber in self.subscribers(type(event)):
            try:
                if subscriber(event) is CONSUMED:
                    return
            except Exception as exc:  # one subscriber's failure must not stop the others
                self._on_error(subscriber, event, exc)
