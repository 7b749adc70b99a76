"""The minute's outreach housekeeping (a schedule): due follow-ups to their queue, stalled campaign builds restarted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from chalicelib.outreach.campaigns import Campaigns
    from chalicelib.outreach.followups import FollowUps

logger = Logger(child=True)


class OutreachSweep:
    def __init__(self, followups: FollowUps, campaigns: Campaigns) -> None:
        self._followups, self._campaigns = followups, campaigns

    def run(self) -> dict[str, int]:
        result = {"followups_queued": self._followups.sweep(), "builds_restarted": self._campaigns.restart_stalled()}
        logger.info("outreach sweep", extra=result)
        return result
