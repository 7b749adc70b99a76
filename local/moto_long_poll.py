"""SQS long polling in moto server without a busy loop.

moto's `ReceiveMessage` with `WaitTimeSeconds` waits only while a queue has no visible message at
all. In a FIFO queue whose visible messages all belong to message groups in flight (the next
message of a conversation waits while the previous one is processed, which is the common case
for the effects queue), it finds nothing to deliver and loops again at once, for the whole wait:
every idle poller then spins in the moto process and, holding its interpreter, slows every other
AWS call of the local stack. On the bot's load run, moto used a whole core this way and answers
took seconds.

`install()` makes a long poll what SQS documents: one pass over the queue, then, if it found
nothing, sleep until the queue changes (a message sent, deleted or its visibility changed: moto
signals the first, this module the others) or a short slice passes (delays and visibility timeouts
run out on their own), until the wait is over. What a pass delivers is moto's own choice, unchanged.
"""

from __future__ import annotations

import time
from threading import Condition
from typing import Any

from moto.sqs.models import Queue, SQSBackend

SLICE_SECONDS = 0.1  # longest sleep between passes: the latency of a message whose delay or timeout runs out

_installed = False


def _changed(queue: Queue) -> Condition:
    """The condition moto notifies when a message is added to ``queue`` (moto has no public name for it)."""
    return queue._messages_lock  # noqa: SLF001


def _notify(queue: Queue) -> None:
    with _changed(queue):
        _changed(queue).notify_all()


def install() -> None:
    """Patch moto's SQS backend in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    receive = SQSBackend.receive_message
    delete = Queue.delete_message
    change_visibility = SQSBackend.change_message_visibility

    def receive_message(self: SQSBackend, queue_name: str, count: int, wait_seconds_timeout: int,
                        visibility_timeout: int, message_attribute_names: list[str] | None = None) -> list[Any]:
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            found = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            changed = _changed(self.get_queue(queue_name))
            with changed:
                changed.wait(min(left, SLICE_SECONDS))

    def delete_message(self: Queue, receipt_handle: str) -> None:
        delete(self, receipt_handle)
        _notify(self)  # a FIFO group may be free again

    def change_message_visibility(self: SQSBackend, queue_name: str, receipt_handle: str,
                                  visibility_timeout: int) -> None:
        change_visibility(self, queue_name, receipt_handle, visibility_timeout)
        _notify(self.get_queue(queue_name))

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
