"""Reaching customers first (issue 16, items 1-4): templates, agent-initiated conversations,
follow-ups, opt-out keywords and campaigns.

Everything the platform says on its own initiative goes through `reach.Reach`, which finds where
the customer can be reached, decides between free text and an approved template (the channel's
customer-service window, via `channels.policies.check_and_split`) and posts the message into the
customer's conversation, so the usual outbound pipeline delivers it and the history shows it.
Follow-ups and campaigns have their own SQS queues (`followup_queue_name`, `campaign_queue_name`).
"""

from __future__ import annotations

import os


def followup_queue_name() -> str:
    """The follow-up queue of this stage (due follow-ups, each with its remaining delay)."""
    return os.environ.get("FOLLOWUP_QUEUE_NAME") or f"cs-platform-{os.environ.get('STAGE', 'dev')}-followups"


def campaign_queue_name() -> str:
    """The campaign queue of this stage (segment builds and one send job per recipient)."""
    return os.environ.get("CAMPAIGN_QUEUE_NAME") or f"cs-platform-{os.environ.get('STAGE', 'dev')}-campaigns"
