"""What agents see pushed to them: the messages of their conversations, and the desk's SLA alerts.

`AgentRelay` is a `MessageStored` subscriber: the assigned agent's sockets get every message of the
conversation (with `meta`, notes included), and a message in a later five-minute bucket than its
conversation's idle-index entry moves the entry (the idle sweep closes conversations whose entry is old).
`DeskAlerts` sends SLA alerts to a ticket's assignee and to every supervisor and admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.auth.roles import SUPERVISORS
from chalicelib.realtime import frames
from chalicelib.store import keys

if TYPE_CHECKING:
    from chalicelib.core.events import MessageStored
    from chalicelib.realtime.notifier import Notifier
    from chalicelib.routing.store import RoutingStore

IDLE_BUCKET_MS = 5 * 60 * 1000


def _moves_idle_entry(gsi2pk: str | None, gsi2sk: str | None, activity_ms: int) -> bool:
    """Not in the idle index yet (or in its older bucketed form), or indexed at an older five-minute bucket."""
    if not gsi2pk or not gsi2sk or not gsi2pk.startswith(keys.IDLE_PK_PREFIX):
        return True
    return int(gsi2sk[:13]) // IDLE_BUCKET_MS != activity_ms // IDLE_BUCKET_MS


class AgentRelay:
    def __init__(self, store: RoutingStore, notifier: Notifier) -> None:
        self._store = store
        self._notifier = notifier

    def on_message(self, event: MessageStored) -> None:
        message = event.message
        state = self._store.routing_state(message.conversation_id)
        if state is None:
            return
        if state.status == "open" and _moves_idle_entry(state.gsi2pk, state.gsi2sk, message.ts_ms):
            self._store.touch_activity(message.conversation_id, message.ts_ms)
        if state.assigned_agent:
            self._notifier.to_owner("agent", state.assigned_agent,
                                    frames.agent_message(message.model_dump(exclude_none=True)))


class DeskAlerts:
    def __init__(self, store: RoutingStore, notifier: Notifier) -> None:
        self._store = store
        self._notifier = notifier

    def send(self, assignee: str | None, frame: dict[str, Any]) -> None:
        """To the assignee (if any) and every supervisor and admin."""
        targets = {a.agent_id for a in self._store.list_agents() if a.role in SUPERVISORS}
        if assignee:
            targets.add(assignee)
        for agent_id in sorted(targets):
            self._notifier.to_owner("agent", agent_id, frame)
