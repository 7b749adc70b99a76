"""The customers' `tickets` frame on the chat socket (issue 16): their own tickets, with their customer token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.chat.extension import FrameExtension
from chalicelib.errors import Forbidden
from chalicelib.realtime import frames

if TYPE_CHECKING:
    from chalicelib.store.connection_store import Connection
    from chalicelib.tickets.loop import TicketLoop


def customer_ticket_frames(loop: TicketLoop) -> FrameExtension:
    def list_tickets(connection: Connection, frame: frames.ListTickets) -> dict[str, Any]:
        if connection.owner_type != "customer":
            raise Forbidden("the tickets frame is for customers", code="forbidden")
        return frames.tickets(loop.list_for_customer(connection.owner_id))

    return FrameExtension(models={"tickets": frames.ListTickets}, handlers={frames.ListTickets: list_tickets})
