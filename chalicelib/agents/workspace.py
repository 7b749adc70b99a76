"""What agents, supervisors and admins do with conversations, and who may do what.

Authorization is checked here, once, for both edges (REST and WebSocket): an agent sees and acts on
conversations offered or assigned to them; supervisors and admins see every conversation, the queue
and all agents' load, and may transfer, resolve or escalate any conversation; customers never get
here except through `request_human` and `rate` (their own conversations only).
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from chalicelib import ids
from chalicelib.agents.relay import IDLE_BUCKET_MS
from chalicelib.auth.roles import SUPERVISORS
from chalicelib.core.events import (
    AgentReplied,
    ConversationEnded,
    ConversationResolved,
    ConversationTransferred,
    HandoffRequested,
)
from chalicelib.core.models import AppendResult, ConversationClosed, DedupKey, MessageDraft, Sender
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.routing.models import EscalationRequest, RoutingState
from chalicelib.routing.store import AgentUnavailable, ConversationTaken
from chalicelib.store import keys

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.agents.csat import CsatService
    from chalicelib.conversations.service import ConversationService
    from chalicelib.outreach.replies import ReplyTemplates
    from chalicelib.outreach.templates import TemplateChoice
    from chalicelib.routing.publisher import Publish
    from chalicelib.routing.service import RoutingService
    from chalicelib.store.identity_store import IdentityStore
    from chalicelib.tickets.models import Ticket, TicketInput
    from chalicelib.tickets.service import TicketService

logger = Logger(child=True)



class Principal(BaseModel):
    kind: Literal["customer", "agent"]
    id: str
    role: str | None = None
    name: str | None = None

    @property
    def supervises(self) -> bool:
        return self.kind == "agent" and self.role in SUPERVISORS


class _SafeFormat(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_placeholders(text: str, **values: str | None) -> str:
    """`{customer_name}`, `{agent_name}`; unknown or malformed placeholders are left as written."""
    try:
        return string.Formatter().vformat(text, (), _SafeFormat({k: v or "" for k, v in values.items()}))
    except (ValueError, IndexError):
        return text


class Workspace:
    def __init__(self, routing: RoutingService, conversations: ConversationService, csat: CsatService,
                 tickets: TicketService, escalate: Publish, identities: IdentityStore,
                 publish: Callable[[object], None], clock: Callable[[], int] = ids.now_ms,
                 suggest: Callable[[str], list[dict[str, Any]]] | None = None,
                 templates: ReplyTemplates | None = None,
                 recent_orders: Callable[[str, str], dict[str, Any] | None] | None = None) -> None:
        self._suggest = suggest
        self._templates = templates  # issue 16: replies naming a template
        self._recent_orders = recent_orders  # -- issue 14: the bot's `orders` action, when one is configured
        self.routing = routing
        self.store = routing.store
        self.conversations = conversations
        self.csat = csat
        self.tickets = tickets
        self._escalate = escalate
        self._identities = identities
        self._publish = publish
        self._now = clock

    # -- authorization --------------------------------------------------------------------------

    def _visible(self, principal: Principal, conversation_id: str) -> RoutingState:
        state = self.store.routing_state(conversation_id)
        # One answer for "not yours" and "does not exist", so conversation ids cannot be probed.
        if state is None or principal.kind != "agent" or not (
                principal.supervises or principal.id in (state.assigned_agent, state.offered_agent)):
            raise Forbidden("this conversation is not yours", code="forbidden")
        return state

    def _held(self, principal: Principal, conversation_id: str, *, supervisors: bool = False) -> RoutingState:
        state = self._visible(principal, conversation_id)
        if state.assigned_agent == principal.id or (supervisors and principal.supervises):
            if state.status != "open":
                raise Conflict("the conversation is closed", code="conversation_closed")
            return state
        raise Forbidden("the conversation is not assigned to you", code="not_assigned")

    def require_role(self, principal: Principal, *roles: str) -> None:
        if principal.kind != "agent" or principal.role not in roles:
            raise Forbidden(f"this needs one of the roles {', '.join(roles)}", code="role_forbidden")

    def check_agent(self, principal: Principal) -> None:
        """Agents must be registered by an admin before they work (admins and supervisors need not)."""
        if principal.role == "agent" and self.store.get_agent(principal.id) is None:
            raise Forbidden("agent is not registered", code="agent_not_registered")

    # -- offers ---------------------------------------------------------------------------------

    def work(self, principal: Principal) -> dict[str, Any]:
        self.routing.expire_offers([principal.id])
        agent = self.store.get_agent(principal.id)
        items = self.store.work_items(principal.id)
        return {"agent": agent.model_dump() if agent else None,
                "offers": [w.model_dump() for w in items if w.state == "offered"],
                "assigned": [w.model_dump() for w in items if w.state == "assigned"]}

    def accept(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        self.routing.expire_offers([principal.id])
        self.routing.accept(principal.id, conversation_id)
        return self.context(principal, conversation_id)

    def decline(self, principal: Principal, conversation_id: str) -> None:
        self.routing.decline(principal.id, conversation_id)

    # -- context --------------------------------------------------------------------------------

    def context(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        state = self._visible(principal, conversation_id)
        store = self.conversations
        customer = store.get_customer(state.customer_id)
        transcript, _ = store.list_messages(conversation_id, limit=200)
        past = [c.model_dump() for c in store.list_customer_conversations(state.customer_id, limit=11)
                if c.conversation_id != conversation_id][:10]
        frame = {
            "type": "context", "conversation_id": conversation_id,
            "conversation": state.model_dump(exclude={"gsi2pk", "escalation_key"}),
            "customer": customer.model_dump() if customer else {"customer_id": state.customer_id},
            "identities": [i.model_dump(exclude_none=True) for i in self._identities.for_customer(state.customer_id)],
            "transcript": [m.model_dump(exclude_none=True) for m in transcript],
            "past_conversations": past,
            "rating": self.csat.get(conversation_id),
        }
        if self._recent_orders is not None:  # -- issue 14: the customer's recent orders from the company's API
            language = next((str(m.meta["language"]) for m in reversed(transcript)
                             if m.sender.type == "bot" and m.meta and m.meta.get("language")), "en")
            if (orders := self._recent_orders(state.customer_id, language)) is not None:
                frame["orders"] = orders
        return frame

    def assist(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        """Suggested replies for the latest customer message (empty while no model is trained)."""
        self._visible(principal, conversation_id)
        recent, _ = self.conversations.list_messages(conversation_id, limit=30)
        latest = next((m for m in reversed(recent) if m.sender.type == "customer" and m.text), None)
        suggestions = self._suggest(latest.text) if latest and latest.text and self._suggest else []
        return {"type": "suggestions", "conversation_id": conversation_id,
                "message_id": latest.message_id if latest else None, "suggestions": suggestions}

    # -- messages -------------------------------------------------------------------------------

    def reply(self, principal: Principal, conversation_id: str, *, client_msg_id: str, text: str | None = None,
              canned_id: str | None = None, template: TemplateChoice | None = None) -> AppendResult:
        state = self._held(principal, conversation_id)
        meta: dict[str, Any] | None = None
        if template is not None:  # issue 16: the text is the rendered template; meta tells outbound what to send
            if self._templates is None:
                raise InvalidInput("templates are not available here", code="templates_unavailable")
            agent = self.store.get_agent(principal.id)
            text, meta = self._templates.render(conversation_id, state.channel, state.customer_id, template,
                                                (agent.name if agent else None) or principal.name)
        elif canned_id:
            canned = self.store.get_canned(canned_id)
            if canned is None:
                raise NotFound(f"canned response {canned_id} not found", code="canned_not_found")
            customer = self.conversations.get_customer(state.customer_id)
            agent = self.store.get_agent(principal.id)
            text = fill_placeholders(canned["text"], customer_name=customer.name if customer else None,
                                     agent_name=(agent.name if agent else None) or principal.name)
        if not text or not text.strip():
            raise InvalidInput("text or canned_id is required", code="empty_field")
        result = self.conversations.post(conversation_id, self._draft(principal, state, text, "public", client_msg_id,
                                                                      meta),
                                         DedupKey(keys.dedup_scope("agent", principal.id), client_msg_id))
        if not result.duplicate and state.first_agent_reply_ms is None:
            self.store.note_first_agent_reply(conversation_id, result.message.ts_ms)
        if not result.duplicate:
            self._publish(AgentReplied(conversation_id=conversation_id, customer_id=state.customer_id,
                                       channel=state.channel, ts_ms=result.message.ts_ms, agent_id=principal.id,
                                       message_id=result.message.message_id,
                                       first_response=state.first_agent_reply_ms is None))
        return result

    def note(self, principal: Principal, conversation_id: str, *, client_msg_id: str, text: str) -> AppendResult:
        state = self._held(principal, conversation_id, supervisors=True)
        return self.conversations.post(conversation_id, self._draft(principal, state, text, "internal", client_msg_id),
                                       DedupKey(keys.dedup_scope("agent", principal.id), client_msg_id))

    def _draft(self, principal: Principal, state: RoutingState, text: str, visibility: str,
               client_msg_id: str | None, meta: dict[str, Any] | None = None) -> MessageDraft:
        agent = self.store.get_agent(principal.id)
        name = agent.name if agent else principal.name
        return MessageDraft(sender=Sender(type="agent", id=principal.id, name=name),
                            channel=state.channel, text=text, visibility=visibility,
                            client_msg_id=client_msg_id, meta=meta)

    # -- transfer, resolve, reopen, escalate ----------------------------------------------------

    def transfer(self, principal: Principal, conversation_id: str, *, to_agent: str | None = None,
                 to_team: str | None = None, note: str | None = None) -> dict[str, Any]:
        if bool(to_agent) == bool(to_team):
            raise InvalidInput("give to_agent or to_team", code="invalid_transfer")
        state = self._held(principal, conversation_id, supervisors=True)
        holder = state.assigned_agent
        if holder is None:
            raise Conflict("the conversation is not assigned to anyone", code="not_assigned")
        if note:
            target = to_agent or f"team {to_team}"
            self.conversations.post(conversation_id, self._draft(principal, state, f"Transfer to {target}: {note}",
                                                                 "internal", None))
        if to_agent:
            if to_agent == holder:
                raise InvalidInput("the conversation is already theirs", code="invalid_transfer")
            if self.store.get_agent(to_agent) is None:
                raise NotFound(f"agent {to_agent} not found", code="agent_not_found")
            expires = self._now() + self.routing.config.offer_timeout_seconds * 1000
            try:
                self.store.transfer_to_agent(state, holder, to_agent, expires)
            except AgentUnavailable as exc:
                raise Conflict(f"agent {to_agent} is not online or has no free slot", code="agent_unavailable") from exc
            except ConversationTaken as exc:
                raise Conflict("the conversation changed meanwhile", code="conflict") from exc
            fresh = self.store.routing_state(conversation_id)
            self._publish(ConversationTransferred(conversation_id=conversation_id, customer_id=state.customer_id,
                                                  channel=state.channel, ts_ms=self._now(), from_agent_id=holder,
                                                  to_agent_id=to_agent, reason=note))
            self.routing.send_offer(to_agent, fresh or state, expires)
            self.routing.dispatch()  # the previous holder has a free slot
            return {"conversation_id": conversation_id, "offered_to": to_agent}
        if self.store.get_team(to_team or "") is None:
            raise NotFound(f"team {to_team} not found", code="team_not_found")
        waiting = state.model_copy(update={"declined_by": [*state.declined_by, holder]})
        if not self.store.release(waiting, holder, to_queue=True, team_id=to_team):
            raise Conflict("the conversation changed meanwhile", code="conflict")
        self._publish(ConversationTransferred(conversation_id=conversation_id, customer_id=state.customer_id,
                                              channel=state.channel, ts_ms=self._now(), from_agent_id=holder,
                                              to_queue=to_team, reason=note))
        self.routing.dispatch()
        return {"conversation_id": conversation_id, "queued_for_team": to_team}

    def resolve(self, principal: Principal, conversation_id: str, note: str | None = None) -> dict[str, Any]:
        state = self._held(principal, conversation_id, supervisors=True)
        holder = state.assigned_agent
        if note:
            self.conversations.post(conversation_id, self._draft(principal, state, note, "internal", None))
        config = self.routing.config
        if config.csat_enabled:
            self.csat.request(conversation_id, state.customer_id, holder, state.channel)
        if holder is not None:
            self.store.release(state, holder, to_queue=False, resolved=True)
        self.conversations.close(conversation_id, "resolved")
        logger.info("resolved", extra={"conversation_id": conversation_id, "agent_id": holder})
        # handle time runs from assignment (else from queueing) to resolution
        now = ids.now_ms()
        began = state.assigned_ms or state.queued_ms or state.created_ms or now
        self._publish(ConversationResolved(conversation_id=conversation_id, customer_id=state.customer_id,
                                           channel=state.channel, ts_ms=now, resolved_by="agent", agent_id=holder,
                                           handle_seconds=max(0, now - began) / 1000))
        self._publish(ConversationEnded(conversation_id=conversation_id, customer_id=state.customer_id,
                                        channel=state.channel, ts_ms=now, abandoned=False))
        self.routing.dispatch()
        return {"conversation_id": conversation_id, "status": "closed", "csat_requested": config.csat_enabled}

    def reopen(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        state = self._visible_closed(principal, conversation_id)
        if not self.store.reopen(conversation_id, state.customer_id):
            raise Conflict("the customer has another open conversation, or it is open already",
                           code="cannot_reopen")
        reopened = self.store.routing_state(conversation_id)
        assert reopened is not None
        try:
            self.store.assign_directly(reopened, principal.id)
        except (AgentUnavailable, ConversationTaken):
            # No free slot: it waits in the queue like any escalation.
            self.store.mark_queued(conversation_id)
            self.store.enqueue(reopened.model_copy(update={"routing_status": "queued", "queued_ms": self._now()}))
            self.routing.dispatch()
        self.conversations.attach_customer(state.customer_id, conversation_id)
        self.csat.clear_pending(state.customer_id)
        return {"conversation_id": conversation_id, "status": "open",
                "assigned_agent": (self.store.routing_state(conversation_id) or reopened).assigned_agent}

    def _visible_closed(self, principal: Principal, conversation_id: str) -> RoutingState:
        state = self.store.routing_state(conversation_id)
        mine = principal.kind == "agent" and (principal.supervises or (state and state.resolved_by == principal.id))
        if state is None or not mine:
            raise Forbidden("this conversation is not yours", code="forbidden")
        if state.status != "closed":
            raise Conflict("the conversation is open", code="cannot_reopen")
        return state

    def escalate(self, principal: Principal, conversation_id: str, *, reason: str, skills: list[str],
                 language: str | None, team_id: str | None) -> dict[str, Any]:
        """Agent side: a supervisor puts a (bot-handled) conversation in the human queue."""
        self.require_role(principal, *SUPERVISORS)
        state = self.store.routing_state(conversation_id)
        if state is None or state.status != "open":
            raise NotFound("no such open conversation", code="not_found")
        customer = self.conversations.get_customer(state.customer_id)
        request = EscalationRequest(
            conversation_id=conversation_id, customer_id=state.customer_id, reason=reason, skills=skills,
            language=language or state.language, vip=bool(customer and customer.vip), team_id=team_id,
            requested_at=ids.datetime_from_ms(self._now()), source="supervisor",
            idempotency_key=f"supervisor:{principal.id}:{conversation_id}:{self._now() // 60000}")
        self._escalate(request)
        self._publish(HandoffRequested(conversation_id=conversation_id, customer_id=state.customer_id,
                                       channel=state.channel, ts_ms=self._now(), reason=reason))
        return {"conversation_id": conversation_id, "escalation": "queued", "idempotency_key": request.idempotency_key}

    def request_human(self, customer_id: str, channel: str, vip: bool, *, reason: str | None, language: str,
                      client_msg_id: str | None, conversation_hint: str | None = None) -> EscalationRequest:
        """The customer asks for a person (the `requestHuman` frame)."""
        conversation_id = conversation_hint or self.conversations.ensure_open(customer_id, channel)
        conversation = self.conversations.get_conversation(conversation_id)
        if conversation is None or conversation.status != "open":
            conversation_id = self.conversations.ensure_open(customer_id, channel)
        key = client_msg_id or str(self._now() // 60000)
        request = EscalationRequest(
            conversation_id=conversation_id, customer_id=customer_id, reason=reason or "customer_request",
            language=language, vip=vip, requested_at=ids.datetime_from_ms(self._now()), source="customer",
            idempotency_key=f"customer:{conversation_id}:{key}")
        self._escalate(request)
        self._publish(HandoffRequested(conversation_id=conversation_id, customer_id=customer_id,
                                       channel=conversation.channel if conversation else channel, ts_ms=self._now(),
                                       reason=request.reason))
        return request

    def ticket_from_conversation(self, principal: Principal, conversation_id: str, data: TicketInput) -> Ticket:
        state = self._visible(principal, conversation_id)
        data = data.model_copy(update={"conversation_id": conversation_id, "customer_id": state.customer_id,
                                       "channel": data.channel or state.channel})
        return self.tickets.create(data, actor=f"agent:{principal.id}", source="conversation")

    # -- supervisors ----------------------------------------------------------------------------

    def load_view(self, principal: Principal) -> list[dict[str, Any]]:
        self.require_role(principal, *SUPERVISORS)
        return [a.model_dump() for a in self.store.list_agents()]

    def queue_view(self, principal: Principal) -> list[dict[str, Any]]:
        self.require_role(principal, *SUPERVISORS)
        return self.routing.queue_view()

    # -- sweeps ---------------------------------------------------------------------------------

    def close_idle(self) -> int:
        """Close open conversations idle for longer than the desk's `idle_close_minutes`."""
        now = self._now()
        cutoff = now - self.routing.config.idle_close_minutes * 60_000
        self._migrate_bucketed_idle_index(now)
        closed = 0
        for state in self.store.idle_since(cutoff):
            if state.status != "open":
                continue
            # The entry moves once per IDLE_BUCKET_MS; the latest message may be newer than its sort key
            last = self.conversations.last_activity_ms(state.conversation_id) or state.created_ms
            if last > cutoff:
                continue
            if state.offered_agent:
                self.store.revoke_offer(state.model_copy(update={"status": "closed"}), state.offered_agent,
                                        expired_before_ms=None)
            if state.assigned_agent:
                self.store.release(state, state.assigned_agent, to_queue=False, resolved=True)
            if state.routing_status is None and self.routing.config.csat_enabled and \
                    self.csat.surveys_bot_only(state.conversation_id):  # issue 16: bot-only surveys
                try:
                    self.csat.request(state.conversation_id, state.customer_id, None, state.channel)
                except ConversationClosed:
                    continue  # the customer closed it meanwhile; nobody to ask
            if self.conversations.close(state.conversation_id, "idle"):
                closed += 1
                logger.info("closed idle conversation", extra={"conversation_id": state.conversation_id})
                self._idle_closed(state, last, now)
        return closed

    def _migrate_bucketed_idle_index(self, now: int) -> None:
        """Once, after an upgrade from the bucketed idle index: move the conversations still open there.

        Its sweep had handled every bucket before its cursor; the open conversations of the buckets from the
        cursor to now get their entry in the sharded index, at the activity their old entry recorded.
        """
        cursor = self.store.legacy_sweep_cursor()
        if cursor is None:
            return
        for bucket in range(cursor, now // IDLE_BUCKET_MS + 1):
            for state in self.store.legacy_idle_bucket(bucket):
                if state.status == "open" and state.gsi2sk:
                    self.store.touch_activity(state.conversation_id, int(state.gsi2sk[:13]))
        self.store.clear_legacy_sweep_cursor()

    def _idle_closed(self, state: RoutingState, last: int, now: int) -> None:
        """Left waiting for a human = abandoned; never handed over = resolved by the bot."""
        cid, customer, channel = state.conversation_id, state.customer_id, state.channel
        if state.routing_status is None:
            self._publish(ConversationResolved(conversation_id=cid, customer_id=customer, channel=channel, ts_ms=now,
                                               resolved_by="bot", agent_id=None,
                                               handle_seconds=max(0, last - state.created_ms) / 1000))
        self._publish(ConversationEnded(conversation_id=cid, customer_id=customer, channel=channel, ts_ms=now,
                                        abandoned=state.routing_status in ("queued", "offered")))

