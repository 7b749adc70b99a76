"""Agent-initiated conversations: `POST /conversations` starts or continues one with a customer.

The agent names the customer and, optionally, the channel identity (`channel`, `external_id`;
default: where the customer last wrote from). Inside the channel's window the text goes as it
is; outside it the template the agent chose, or the channel's `reengage` template with the text
as its parameter; when neither is possible the answer is 409 with the policy's code
(`outside_24h_window`, ...) and nothing is stored. The message is posted into the customer's open
conversation (a new one if none) and the agent holds that conversation when nobody else does and
they have a free slot, so the customer's answer comes back to them.

App, web and mini-program customers who are offline get the message on their next connect (it is
in the conversation; the client's history resync after connecting returns it); if a push hook is
configured (`push.PushHook`), their device is notified at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.core.models import DedupKey, Sender
from chalicelib.outreach.templates import TemplateChoice
from chalicelib.routing.store import AgentUnavailable, ConversationTaken
from chalicelib.store import keys

if TYPE_CHECKING:
    from chalicelib.outreach.push import PushHook
    from chalicelib.outreach.reach import Reach
    from chalicelib.routing.store import RoutingStore
    from chalicelib.store.connection_store import ConnectionStore

logger = Logger(child=True)


class StartConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=128)
    channel: str | None = Field(default=None, min_length=1, max_length=32)
    external_id: str | None = Field(default=None, min_length=1, max_length=256)
    text: str | None = Field(default=None, max_length=4000)
    template: TemplateChoice | None = None
    client_msg_id: str = Field(min_length=1, max_length=128)


class Initiator:
    def __init__(self, reach: Reach, routing: RoutingStore, connections: ConnectionStore,
                 push: PushHook | None = None) -> None:
        self._reach = reach
        self._routing = routing
        self._connections = connections
        self._push = push

    def start(self, agent_id: str, agent_name: str | None, request: StartConversation) -> tuple[dict[str, Any], bool]:
        """Send the first message: (answer, created). Raises Unreachable (409) with the policy's code."""
        dest = self._reach.destination(request.customer_id, request.channel, request.external_id)
        composed = self._reach.compose(dest, text=request.text, choice=request.template,
                                       values={"agent_name": agent_name or ""})
        agent = self._routing.get_agent(agent_id)
        sender = Sender(type="agent", id=agent_id, name=(agent.name if agent else None) or agent_name)
        result = self._reach.deliver(dest, sender, composed, DedupKey(keys.dedup_scope("agent", agent_id),
                                                                      request.client_msg_id),
                                     extra_meta={"outreach": "agent_initiated"})
        message = result.message
        assigned = self._hold(message.conversation_id, agent_id) if agent is not None else False
        notified = None
        if not result.duplicate and not dest.social:
            online = bool(self._connections.for_owner("customer", dest.customer_id))
            if not online and self._push is not None:
                notified = self._push.notify(dest.customer_id, message.conversation_id, message.message_id,
                                             composed.text)
        answer = {"conversation_id": message.conversation_id, "channel": dest.channel, "mode": composed.mode,
                  "template_id": composed.template_id, "assigned_to_you": assigned, "push_notified": notified,
                  "message": message.model_dump(exclude_none=True), "duplicate": result.duplicate}
        return answer, not result.duplicate

    def _hold(self, conversation_id: str, agent_id: str) -> bool:
        state = self._routing.routing_state(conversation_id)
        if state is None:
            return False
        if state.assigned_agent == agent_id:
            return True
        if state.assigned_agent is not None:
            return False
        try:
            self._routing.assign_directly(state, agent_id)
        except (AgentUnavailable, ConversationTaken):
            logger.info("agent-initiated conversation left to routing", extra={"conversation_id": conversation_id})
            return False
        return True
