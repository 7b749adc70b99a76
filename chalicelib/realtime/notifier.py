"""The one place that pushes frames to WebSocket connections, and the only one that handles a 410.

A 410 (GoneException) means the connection is gone: its item is deleted, and the push goes on to the
other targets. Any other failure of one connection is logged and skipped, so one broken peer never
stops a fan-out.

API Gateway also answers 410 for a connection whose `$connect` has not returned yet: the item is
written during `$connect`, so a fan-out in that gap (a bot answer while a device reconnects) sees a
live connection as gone. A connection younger than HANDSHAKE_GRACE_MS is therefore kept (the frame
is lost to it, and the client's resync after open fetches it); its `$disconnect`, or the item's TTL,
removes it if it really is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.errors import ConnectionGone

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from chalicelib.store.connection_store import Connection, ConnectionStore

logger = Logger(child=True)

HANDSHAKE_GRACE_MS = 30_000  # API Gateway's integration timeout (29 s) bounds how long `$connect` runs


class Pushes(Protocol):
    def send(self, endpoint: str, connection_id: str, frame: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class Delivery:
    delivered: int
    gone: int


class Notifier:
    def __init__(self, pusher: Pushes, connections: ConnectionStore) -> None:
        self._pusher = pusher
        self._connections = connections

    def send(self, endpoint: str, connection_id: str, frame: Mapping[str, Any]) -> bool:
        """Push to one connection (e.g. the answer to its own frame); False if it is gone."""
        try:
            self._pusher.send(endpoint, connection_id, frame)
        except ConnectionGone:
            self._forget(connection_id)
            return False
        return True

    def to_connections(self, connections: Iterable[Connection], frame: Mapping[str, Any],
                       exclude: str | None = None) -> Delivery:
        delivered = gone = 0
        for connection in connections:
            if connection.connection_id == exclude:
                continue
            try:
                self._pusher.send(connection.endpoint, connection.connection_id, frame)
                delivered += 1
            except ConnectionGone:
                gone += 1
                if connection.connected_ms > ids.now_ms() - HANDSHAKE_GRACE_MS:
                    logger.info("push refused during the connection's handshake",
                                extra={"target_connection_id": connection.connection_id})
                else:
                    self._forget(connection.connection_id)
            except Exception:  # one broken connection must not stop the rest of the fan-out
                logger.exception("push failed", extra={"target_connection_id": connection.connection_id})
        return Delivery(delivered, gone)

    def to_conversation(self, conversation_id: str, frame: Mapping[str, Any], *, exclude: str | None = None,
                        owner_type: Literal["customer", "agent"] | None = None) -> Delivery:
        """Every live connection attached to the conversation (optionally only customers' or agents')."""
        targets = self._connections.for_conversation(conversation_id)
        if owner_type is not None:
            targets = [c for c in targets if c.owner_type == owner_type]
        return self.to_connections(targets, frame, exclude)

    def to_owner(self, owner_type: Literal["customer", "agent"], owner_id: str, frame: Mapping[str, Any]) -> Delivery:
        """Every live connection of one customer or agent (all their devices and tabs)."""
        return self.to_connections(self._connections.for_owner(owner_type, owner_id), frame)

    def _forget(self, connection_id: str) -> None:
        self._connections.delete(connection_id)
        logger.info("removed stale connection", extra={"stale_connection_id": connection_id})
