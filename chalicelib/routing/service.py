"""Escalation routing: from an escalation to an offer, the waiting queue, offer timeouts.

`handle` processes one escalation message (safe to repeat); `dispatch` serves the waiting queue in
priority-then-age order, offering each conversation to the least loaded, longest idle online agent
with its skills and language. It runs after every event that can free capacity (an agent comes
online, declines, resolves, transfers, an offer expires) and after every new escalation, and the
minute sweep runs it too, so a wake-up lost in a race costs at most a minute.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.core.events import AgentAssigned, EscalatedOutOfHours
from chalicelib.core.models import ConversationClosed, DedupKey, MessageDraft, Sender
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.realtime import frames
from chalicelib.routing.store import AgentUnavailable, ConversationTaken, RoutingStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.conversations.service import ConversationService
    from chalicelib.i18n import CustomerTexts
    from chalicelib.realtime.notifier import Notifier
    from chalicelib.routing.models import (
        Agent,
        AgentStatus,
        BusinessHours,
        DeskConfig,
        EscalationRequest,
        QueueEntry,
        RoutingState,
    )

logger = Logger(child=True)

SYSTEM = Sender(type="system", id="routing", name="Support")
DISPATCH_HEAD = 100  # queue entries considered per dispatch pass


class RoutingService:
    def __init__(self, store: RoutingStore, conversations: ConversationService, notifier: Notifier,
                 publish: Callable[[object], None], texts: CustomerTexts,
                 clock: Callable[[], int] = ids.now_ms) -> None:
        self.store = store
        self._texts = texts
        self._conversations = conversations
        self._notifier = notifier
        self._publish = publish
        self._now = clock
        self._config_cache: tuple[int, DeskConfig] | None = None

    CONFIG_CACHE_MS = 5_000  # desk settings change rarely; a container re-reads them after 5 s

    @property
    def config(self) -> DeskConfig:
        now = self._now()
        cached = self._config_cache
        if cached is None or now - cached[0] > self.CONFIG_CACHE_MS or now < cached[0]:
            cached = (now, self.store.get_config())
            self._config_cache = cached
        return cached[1]

    def forget_config(self) -> None:
        self._config_cache = None

    # -- escalations ----------------------------------------------------------------------------

    def handle(self, request: EscalationRequest) -> str:
        """Route one escalation; returns what happened (for logs and tests)."""
        logger.append_keys(conversation_id=request.conversation_id)
        now = self._now()
        outcome, state = self.store.mark_escalated(request, now)
        if outcome == "ignored" or state is None:
            logger.info("escalation ignored", extra={"routing_status": state.routing_status if state else None})
            return "ignored"
        if state.routing_status in ("offered", "assigned", "offline", "resolved"):
            return "already_routed"
        config = self.config
        hours = self._hours_for(request.team_id, config)
        if hours is not None and not hours.is_open(now):
            return self._out_of_hours(request, config)
        entry = self.store.enqueue(state)
        if entry is None:
            return "already_routed"
        online = self.store.online_agents()
        if any(a.can_take(entry.skills, entry.language, entry.team_id) for a in online):
            self.dispatch()
        else:  # nobody can take it now: only this customer's position is new
            self._announce_one(entry, sum(a.capacity for a in online), config)
        return "routed"

    def _hours_for(self, team_id: str | None, config: DeskConfig) -> BusinessHours | None:
        if team_id:
            team = self.store.get_team(team_id)
            if team and team.business_hours is not None:
                return team.business_hours
        return config.business_hours

    def _out_of_hours(self, request: EscalationRequest, config: DeskConfig) -> str:
        if not self.store.mark_offline(request.conversation_id, request.idempotency_key):
            return "already_routed"
        text = config.offline_message or self._texts.for_conversation(request.conversation_id, "routing.offline")
        self._system_message(request.conversation_id, text, {"routing": "offline"},
                             dedup=("offline", request.idempotency_key))
        self._publish(EscalatedOutOfHours(conversation_id=request.conversation_id, customer_id=request.customer_id,
                                          reason=request.reason, urgent=bool(request.priority),
                                          skills=tuple(request.skills), idempotency_key=request.idempotency_key))
        return "offline"

    # -- the queue ------------------------------------------------------------------------------

    def dispatch(self) -> int:
        """Offer waiting conversations to available agents; tell the rest their position. Returns offers made."""
        entries = self.store.waiting(limit=DISPATCH_HEAD)
        if not entries:
            return 0
        online = self.store.online_agents()
        agents = {a.agent_id: a for a in online if a.load < a.capacity}
        config = self.config
        offered = 0
        remaining: list[QueueEntry] = []
        for entry in entries:
            if not agents or not self._offer_best(entry, agents, config):
                remaining.append(entry)
                continue
            offered += 1
        if remaining and offered:
            self._announce(remaining, sum(a.capacity for a in online), config)
        return offered

    def _offer_best(self, entry: QueueEntry, agents: dict[str, Agent], config: DeskConfig) -> bool:
        """True if the entry no longer waits (offered now, or taken by someone else)."""
        candidates = [a for a in agents.values() if a.agent_id not in entry.declined_by
                      and a.can_take(entry.skills, entry.language, entry.team_id)]
        candidates.sort(key=lambda a: (a.load / a.capacity, a.last_assigned_ms, a.agent_id))
        for agent in candidates:
            state = self.store.routing_state(entry.conversation_id)
            if state is None or state.status != "open" or state.routing_status != "queued" \
                    or state.offered_agent or state.assigned_agent:
                self.store.drop_queue_entry(entry.sk)  # stale: closed or already served
                return True
            expires = self._now() + config.offer_timeout_seconds * 1000
            try:
                self.store.offer(state, agent.agent_id, expires, entry.sk)
            except AgentUnavailable:
                fresh = self.store.get_agent(agent.agent_id)
                if fresh is None or fresh.status != "online" or fresh.load >= fresh.capacity:
                    agents.pop(agent.agent_id, None)
                else:
                    agents[agent.agent_id] = fresh
                continue
            except ConversationTaken:
                return True
            agent.load += 1
            agent.last_assigned_ms = self._now()
            if agent.load >= agent.capacity:
                agents.pop(agent.agent_id, None)
            self.send_offer(agent.agent_id, state, expires)
            return True
        return False

    def _announce(self, remaining: list[QueueEntry], capacity: int, config: DeskConfig) -> None:
        """Tell waiting customers their new position: each step near the front, every fifth further back."""
        for position, entry in enumerate(remaining, start=1):
            told = entry.told_position
            if told is not None and (told == position or (position > 10 and abs(told - position) < 5)):
                continue
            self._tell(entry, position, capacity, config)

    def _announce_one(self, entry: QueueEntry, capacity: int, config: DeskConfig) -> None:
        self._tell(entry, self.store.position(entry.sk), capacity, config)

    def _tell(self, entry: QueueEntry, position: int, capacity: int, config: DeskConfig) -> None:
        wait = math.ceil(position / max(1, capacity)) * config.average_handle_seconds
        info = {"position": position, "estimated_wait_seconds": wait}
        if not self.store.set_told_position(entry.sk, position):
            return  # served meanwhile
        if entry.told_position is None:
            minutes = max(1, round(wait / 60))
            text = self._texts.for_conversation(entry.conversation_id, "routing.queued", position=position,
                                                count=minutes)
            self._system_message(entry.conversation_id, text, {"queue": info}, dedup=("queued", entry.sk))
        self._notifier.to_conversation(entry.conversation_id,
                                       frames.typed("queue", conversation_id=entry.conversation_id, **info))

    def queue_view(self) -> list[dict[str, Any]]:
        return [{"position": i, **e.model_dump(exclude={"sk"})} for i, e in enumerate(self.store.waiting(), 1)]

    # -- agents' side ---------------------------------------------------------------------------

    def set_status(self, agent_id: str, status: AgentStatus) -> Agent:
        try:
            agent = self.store.set_status(agent_id, status)
        except KeyError as exc:
            raise NotFound(f"agent {agent_id} is not registered", code="agent_not_found") from exc
        logger.info("agent status", extra={"agent_id": agent_id, "agent_status": status})
        if status == "online":
            self.dispatch()
        return agent

    def accept(self, agent_id: str, conversation_id: str) -> RoutingState:
        now = self._now()
        try:
            self.store.accept(conversation_id, agent_id, now)
        except ConversationTaken:
            state = self.store.routing_state(conversation_id)
            if state is not None and state.assigned_agent == agent_id:
                return state  # accepted twice
            if state is not None and state.offered_agent == agent_id:
                self.store.revoke_offer(state, agent_id, expired_before_ms=now)
                self.dispatch()
                raise Conflict("the offer has expired", code="offer_expired") from None
            raise Forbidden("this conversation is not offered to you", code="not_offered") from None
        state = self.store.routing_state(conversation_id)
        assert state is not None
        agent = self.store.get_agent(agent_id)
        name = agent.name if agent else agent_id
        self._system_message(conversation_id, self._texts.for_conversation(conversation_id, "routing.agent_joined",
                                                                           name=name),
                             {"routing": "assigned", "agent": {"id": agent_id, "name": name}},
                             dedup=("joined", conversation_id, agent_id, str(state.queued_ms)))
        logger.info("offer accepted", extra={"agent_id": agent_id, "wait_ms": now - (state.queued_ms or now)})
        self._publish(AgentAssigned(conversation_id=conversation_id, customer_id=state.customer_id,
                                    channel=state.channel, ts_ms=now, agent_id=agent_id,
                                    wait_seconds=max(0.0, (now - (state.queued_ms or now)) / 1000)))
        return state

    def decline(self, agent_id: str, conversation_id: str) -> None:
        state = self.store.routing_state(conversation_id)
        if state is None or state.offered_agent != agent_id:
            raise Forbidden("this conversation is not offered to you", code="not_offered")
        self.store.revoke_offer(state, agent_id, expired_before_ms=None)
        self.dispatch()

    def expire_offers(self, agent_ids: list[str] | None = None) -> int:
        """Take back offers not accepted in time and pass them on (the minute sweep, agents' actions)."""
        now = self._now()
        expired = 0
        for agent_id in agent_ids if agent_ids is not None else [a.agent_id for a in self.store.list_agents()]:
            for work in self.store.work_items(agent_id):
                if work.state != "offered" or (work.expires_ms or 0) > now:
                    continue
                state = self.store.routing_state(work.conversation_id)
                if state is not None and self.store.revoke_offer(state, agent_id, expired_before_ms=now):
                    expired += 1
                    logger.info("offer expired", extra={"agent_id": agent_id,
                                                        "conversation_id": work.conversation_id})
                    self.push_agent(agent_id, frames.typed("offer_revoked", conversation_id=work.conversation_id,
                                                           reason="timeout"))
        if expired:
            self.dispatch()
        return expired

    # -- pushing --------------------------------------------------------------------------------

    def send_offer(self, agent_id: str, state: RoutingState, expires_ms: int) -> None:
        """Offer the conversation to the agent's sockets (the offer itself is already stored)."""
        customer = self._conversations.get_customer(state.customer_id)
        self.push_agent(agent_id, frames.typed(
            "offer", conversation_id=state.conversation_id, expires_ms=expires_ms,
            customer={"customer_id": state.customer_id, "name": customer.name if customer else None,
                      "vip": customer.vip if customer else False},
            reason=state.reason, priority=state.priority, language=state.language, skills=state.skills,
            channel=state.channel))
        logger.info("offered", extra={"agent_id": agent_id, "conversation_id": state.conversation_id,
                                      "wait_ms": self._now() - (state.queued_ms or self._now())})

    def push_agent(self, agent_id: str, frame: dict[str, Any]) -> None:
        self._notifier.to_owner("agent", agent_id, frame)

    def _system_message(self, conversation_id: str, text: str, meta: dict[str, Any], dedup: tuple[str, ...]) -> None:
        conversation = self._conversations.get_conversation(conversation_id)
        channel = conversation.channel if conversation else "app"
        draft = MessageDraft(sender=SYSTEM, channel=channel, kind="text", text=text, meta=meta)
        try:
            self._conversations.post(conversation_id, draft, DedupKey("routing", dedup))
        except ConversationClosed:
            logger.info("conversation closed before the system message", extra={"conversation_id": conversation_id})
