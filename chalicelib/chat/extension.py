"""What another domain adds to the chat socket: its frames, their handlers, and its hooks.

The agents domain gives the chat handler one `FrameExtension` through its constructor: the agent
actions and the customers' `requestHuman` / `rate`, a gate on agent connections (an unregistered
agent is refused), and what happens when an agent's last socket closes (they go offline).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.store.connection_store import Connection

if TYPE_CHECKING:
    from chalicelib.auth.tokens import AgentClaims
    from chalicelib.realtime.frames import Frame

# (the connection that sent it, the parsed frame) -> the answer frame for that connection, if any
FrameHandler = Callable[[Connection, Any], dict[str, Any] | None]


def _allow(_: AgentClaims) -> None:
    return None


def _ignore(_: str) -> None:
    return None


@dataclass(frozen=True)
class FrameExtension:
    models: Mapping[str, type[Frame]] = field(default_factory=dict)  # action -> frame model
    handlers: Mapping[type[Frame], FrameHandler] = field(default_factory=dict)
    agent_gate: Callable[[AgentClaims], None] = _allow  # raises a DomainError to refuse the connection
    agent_offline: Callable[[str], None] = _ignore  # the agent's last socket closed


def combine(first: FrameExtension, *others: FrameExtension) -> FrameExtension:
    """One extension of several domains' frames (issue 16); the first one's agent hooks are kept."""
    models = dict(first.models)
    handlers = dict(first.handlers)
    for other in others:
        models.update(other.models)
        handlers.update(other.handlers)
    return FrameExtension(models=models, handlers=handlers, agent_gate=first.agent_gate,
                          agent_offline=first.agent_offline)
