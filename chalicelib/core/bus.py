"""One way of reacting to what happened: typed events dispatched to an explicit subscriptions table.

- **Order is the table's.** Each event type maps to a tuple of subscribers called in that order.
  A subscriber may return `CONSUMED` to stop the later ones (a survey answer is not a question for
  the bot); anything else lets dispatch go on.
- **No re-entrancy.** An event published while another is being dispatched (the bot's reply while
  the customer's message is handled) waits in this thread's queue and is dispatched after every
  subscriber of the current event has run: first in, first out, never nested.
- **Isolation.** A subscriber's failure is reported through `on_error` and does not stop the others,
  nor undo what was published: the event stands.
- **Strict delivery for retried work.** `deliver` (the effects queue's consumer) stops at the first
  failing subscriber and raises `SubscriberFailed`, so that the record is retried as a whole and a
  survey answer whose CSAT step failed is never answered by the bot meanwhile; subscribers are
  idempotent per event, so the retry resumes what the failed attempt left undone.
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


class SubscriberFailed(Exception):
    """A subscriber raised during `deliver`; the event is to be delivered again."""

    def __init__(self, subscriber: Subscriber, cause: Exception, completed: tuple[str, ...]) -> None:
        super().__init__(f"{subscriber_name(subscriber)} failed: {cause!r}")
        self.subscriber = subscriber
        self.cause = cause
        self.completed = completed  # the subscribers before it, which did their part


def subscriber_name(subscriber: Subscriber) -> str:
    """A subscriber's stable name (`BotResponder.on_message`), to remember what a delivery did."""
    return str(getattr(subscriber, "__qualname__", None) or repr(subscriber))


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

    def deliver(self, event: object, skip: frozenset[str] = frozenset()) -> None:
        """Dispatch `event` to every subscriber in order, stopping at (and raising) the first failure.

        `skip`: the subscribers an earlier delivery completed (`SubscriberFailed.completed`).
        Events published by the subscribers meanwhile are dispatched afterwards as `publish` does,
        the failed delivery included: what the subscribers before the failure did has happened.
        """
        if getattr(self._local, "queue", None) is not None:
            raise RuntimeError("deliver() is for an event from outside any dispatch")
        queue = self._local.queue = deque()
        try:
            failure = self._dispatch(event, strict=True, skip=skip)
            while queue:
                self._dispatch(queue.popleft())
        finally:
            self._local.queue = None
        if failure is not None:
            raise failure

    def subscribers(self, event_type: type) -> Sequence[Subscriber]:
        return self._subscriptions().get(event_type, ())

    def _subscriptions(self) -> Subscriptions:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = self._resolve()
        return self._table

    def _dispatch(self, event: object, *, strict: bool = False,
                  skip: frozenset[str] = frozenset()) -> SubscriberFailed | None:
        completed: list[str] = []
        for subscriber in self.subscribers(type(event)):
            name = subscriber_name(subscriber)
            if name in skip:
                completed.append(name)
                continue
            try:
                if subscriber(event) is CONSUMED:
                    return None
            except Exception as exc:  # one subscriber's failure must not stop the others (unless strict)
                self._on_error(subscriber, event, exc)
                if strict:
                    return SubscriberFailed(subscriber, exc, tuple(completed))
            completed.append(name)
        return None
