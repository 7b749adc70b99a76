"""Outbound replies to social channels: the listener that enqueues jobs and the SQS consumer that sends."""

from __future__ import annotations

import os


def queue_name() -> str:
    """The outbound queue of this stage (`chalice package` and Lambda both see the stage's variables)."""
    return os.environ.get("OUTBOUND_QUEUE_NAME") or f"cs-platform-{os.environ.get('STAGE', 'dev')}-outbound"
