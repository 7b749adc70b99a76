"""The minute's housekeeping (a schedule): expired offers pass on, the queue is served, SLA breaches
are flagged, idle conversations are closed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from chalicelib.agents.workspace import Workspace
    from chalicelib.routing.service import RoutingService
    from chalicelib.tickets.service import TicketService

logger = Logger(child=True)


class Sweeps:
    def __init__(self, routing: RoutingService, tickets: TicketService, workspace: Workspace) -> None:
        self._routing, self._tickets, self._workspace = routing, tickets, workspace

    def run(self) -> dict[str, int]:
        result = {"offers_expired": self._routing.expire_offers(), "offers_made": self._routing.dispatch()}
        result.update(self._tickets.check_sla())
        result["idle_closed"] = self._workspace.close_idle()
        logger.info("agent sweep", extra=result)
        return result
