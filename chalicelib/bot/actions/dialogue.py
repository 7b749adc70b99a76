"""One customer turn through an intent's action: collect slots, ask, cancel, call, answer.

The bot's listener calls :meth:`ActionDialogue.steer` with the dialogue policy's decision for a
customer message; it returns the decision to post instead, or None to keep the policy's. The same
call serves the bot inline or from a queue: all it needs is the turn and the decision.

- No action waiting: when the decision answers an intent bound to an action, the action's slots
  are taken from the message, then from what this conversation already gave (``known`` slots),
  the customer's profile (phone, e-mail) and the conversation's recent customer messages. All found:
  the action is called. One missing: the bot asks for it in the customer's language.
- An action waiting for a slot: a handoff decision (the customer asked for a person, anger, VIP)
  wins and drops the wait; "算了" / "never mind" cancels; a message carrying the slot resumes the
  action; a confident answer to another question drops the wait and is answered; anything else is
  asked again, and after ``max_asks`` (2) questions the bot offers a person instead.
- The call's answer is the action's template in the customer's language filled from the JSON
  response and the slots; a failure (timeout, 5xx, open circuit, a response without the template's
  fields, not configured) is a polite fallback with a "talk to a person" quick reply; 404 says
  nothing was found for this customer.

Every reply keeps the policy's analytics vocabulary (``answer`` / ``fallback``), with ``reason``
saying what happened (``action_ok``, ``slot_asked``, ``action_cancelled``, ``action_timeout``, ...);
the bot message's ``meta["bot_action"]`` records the action, its slots' names (never their values)
and the call's outcome.
"""

from __future__ import annotations

import dataclasses
import os
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib.bot.actions import slots as slot_finder
from chalicelib.bot.actions.state import Pending, SlotMemory

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from chalicelib.bot.action_spec import ActionSpec
    from chalicelib.bot.actions.client import ActionClient, ActionResult
    from chalicelib.bot.actions.state import SlotStateStore
    from chalicelib.bot.policy import Action, Decision
    from chalicelib.i18n import Catalog

logger = Logger(child=True)

ORDERS_ACTION = "orders"
ORDER_EXAMPLE = "NW10001"


@dataclass(frozen=True)
class ActionConfig:
    order_number_pattern: str | None = None  # the company's default; an action may override it
    max_asks: int = 2
    history_messages: int = 20

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ActionConfig:
        env = os.environ if env is None else env
        return cls(order_number_pattern=(env.get("ACTION_ORDER_NUMBER_PATTERN") or "").strip() or None,
                   max_asks=int(env.get("ACTION_MAX_ASKS") or cls.max_asks))


@dataclass(frozen=True)
class Turn:
    """One customer message, as the bot's listener has it."""

    conversation_id: str
    customer_id: str
    channel: str
    message_id: str
    text: str
    profile: Mapping[str, Any] = field(default_factory=dict)


class ActionDirectory:
    """The KB's actions by intent and by name, re-read only when the KB version moves (one GetItem a turn).

    ``version`` reads the KB's version; ``load`` the enabled intents' actions (intent name -> spec).
    Both are the knowledge base store's (wired in ``services.py``; this package does not import the KB).
    """

    def __init__(self, version: Callable[[], int], load: Callable[[], dict[str, ActionSpec]]) -> None:
        self._version = version
        self._load = load
        self._cache: tuple[int, dict[str, ActionSpec]] = (-1, {})

    def _actions(self) -> dict[str, ActionSpec]:
        version = self._version()
        cached_version, actions = self._cache
        if version != cached_version:
            actions = self._load()
            self._cache = (version, actions)
        return actions

    def for_intent(self, intent: str) -> ActionSpec | None:
        return self._actions().get(intent)

    def named(self, name: str) -> ActionSpec | None:
        return next((a for a in self._actions().values() if a.name == name), None)


class ActionDialogue:
    def __init__(self, directory: ActionDirectory, client: ActionClient, state: SlotStateStore,
                 recent_customer_texts: Callable[[str, int], list[str]],
                 channel_identity: Callable[[str, str], str | None], catalog: Catalog,
                 config: ActionConfig | None = None, today: Callable[[], date] | None = None) -> None:
        self._text = catalog.text  # the message catalog: keys action.* in chalicelib/i18n/messages
        self._directory = directory
        self._client = client
        self._state = state
        self._history = recent_customer_texts
        self._identity = channel_identity
        self.config = config or ActionConfig()
        self._today = today or (lambda: datetime.now(UTC).date())

    # -- the turn -----------------------------------------------------------------------------

    def steer(self, turn: Turn, decision: Decision) -> tuple[Decision, dict[str, Any]] | None:
        """The decision to post instead of the policy's (with the ``bot_action`` meta), or None."""
        memory = self._state.load(turn.conversation_id)
        pending = memory.pending
        if pending is not None:
            spec = self._directory.for_intent(pending.intent)
            if decision.handoff or spec is None:
                self._state.save(turn.conversation_id, SlotMemory(memory.known), turn.message_id)
                return None
            return self._continue(turn, decision, memory, pending, spec)
        if decision.action != "answer" or not decision.intent:
            return None
        spec = self._directory.for_intent(decision.intent)
        if spec is None:
            return None
        found = self._collect(turn, spec, memory.known)
        return self._proceed(turn, decision, memory, decision.intent, spec, found, asks=0)

    def _continue(self, turn: Turn, decision: Decision, memory: SlotMemory, pending: Pending,
                  spec: ActionSpec) -> tuple[Decision, dict[str, Any]] | None:
        meta = {"name": spec.name, "intent": pending.intent}
        if pending.language and not _has_words(turn.text):  # a bare "NW10002" keeps the question's language
            decision = dataclasses.replace(decision, language=pending.language)
        if slot_finder.is_cancel(turn.text):
            self._state.save(turn.conversation_id, SlotMemory(memory.known), turn.message_id)
            return self._reply(decision, pending.intent, "answer", "action_cancelled",
                               self._text("action.cancelled", decision.language), {**meta, "outcome": "cancelled"})
        missing = [s for s in spec.slots if s not in pending.found]
        found = {**pending.found, **self._find(spec, missing, [turn.text])}
        if len(found) > len(pending.found):
            return self._proceed(turn, decision, memory, pending.intent, spec, found, asks=0)
        switched = decision.action == "answer" and decision.intent not in (None, pending.intent) \
            and decision.reason != "smalltalk"
        if switched:
            self._state.save(turn.conversation_id, SlotMemory(memory.known), turn.message_id)
            return self.steer(turn, decision) if self._directory.for_intent(str(decision.intent)) else None
        if pending.asks >= self.config.max_asks:
            self._state.save(turn.conversation_id, SlotMemory(memory.known), turn.message_id)
            label = self._text(f"action.slot_label.{pending.slot}", decision.language)
            return self._reply(decision, pending.intent, "fallback", "slot_not_given",
                               self._text("action.offer_person", decision.language, slot=label),
                               {**meta, "outcome": "offered_person", "slot": pending.slot},
                               offer_person=True)
        return self._proceed(turn, decision, memory, pending.intent, spec, found, asks=pending.asks)

    def _proceed(self, turn: Turn, decision: Decision, memory: SlotMemory, intent: str, spec: ActionSpec,
                 found: dict[str, str], *, asks: int) -> tuple[Decision, dict[str, Any]]:
        missing = [s for s in spec.slots if s not in found]
        meta: dict[str, Any] = {"name": spec.name, "intent": intent}
        if missing:
            slot = missing[0]
            again = asks > 0 and memory.pending is not None and memory.pending.slot == slot
            asks = asks + 1 if again else 1
            self._state.save(turn.conversation_id,
                             SlotMemory(memory.known, Pending(intent=intent, slot=slot, asks=asks, found=found,
                                                              language=decision.language)),
                             turn.message_id)
            key = f"action.ask_again.{slot}" if again else f"action.ask_slot.{slot}"
            params = {"example": ORDER_EXAMPLE} if again and slot == "order_number" else {}
            return self._reply(decision, intent, "answer", "slot_asked", self._text(key, decision.language, **params),
                               {**meta, "outcome": "asked", "slot": slot, "asks": asks})
        self._state.save(turn.conversation_id, SlotMemory({**memory.known, **found}), turn.message_id)
        result = self._client.call(spec, self._payload(turn, spec, intent, found, decision.language))
        meta.update({"slots": sorted(found), **result.meta()})
        if result.ok and (answer := fill(spec.templates.get(decision.language), result, found)) is not None:
            return self._reply(decision, intent, "answer", "action_ok", answer, {**meta, "outcome": "ok"})
        failure = result.failure or "bad_response"
        key = "action.not_found" if failure == "not_found" else "action.failed"
        return self._reply(decision, intent, "fallback", f"action_{failure}", self._text(key, decision.language),
                           {**meta, "outcome": "failed", "failure": failure}, offer_person=True)

    # -- slots --------------------------------------------------------------------------------

    def _pattern(self, spec: ActionSpec) -> re.Pattern[str]:
        return slot_finder.order_number_regex(spec.order_number_pattern or self.config.order_number_pattern)

    def _find(self, spec: ActionSpec, wanted: Iterable[str], sources: Iterable[str]) -> dict[str, str]:
        return slot_finder.find_all([s for s in spec.slots if s in set(wanted)], sources,
                                    order_pattern=self._pattern(spec), today=self._today())

    def _collect(self, turn: Turn, spec: ActionSpec, known: Mapping[str, str]) -> dict[str, str]:
        """Slots from the message, then remembered ones, the profile, and the conversation's recent messages."""
        found = self._find(spec, spec.slots, [turn.text])
        for slot in spec.slots:
            value = known.get(slot) or (str(turn.profile.get(slot) or "") if slot in ("phone", "email") else "")
            if slot not in found and value:
                found[slot] = value
        missing = [s for s in spec.slots if s not in found]
        if missing:
            earlier = [t for t in self._history(turn.conversation_id, self.config.history_messages) if t != turn.text]
            found.update(self._find(spec, missing, earlier))
        return found

    # -- the call and the reply ---------------------------------------------------------------

    def _payload(self, turn: Turn, spec: ActionSpec, intent: str, found: Mapping[str, str],
                 language: str) -> dict[str, Any]:
        return {
            "action": spec.name, "intent": intent, "request_id": f"{turn.message_id}#{spec.name}",
            "conversation_id": turn.conversation_id, "language": language, "slots": dict(found),
            # The company's API must check that what it returns belongs to this customer (README).
            "customer": {"id": turn.customer_id, "channel": turn.channel,
                         "channel_user_id": self._identity(turn.customer_id, turn.channel)},
        }

    def _reply(self, decision: Decision, intent: str, action: Action, reason: str, text: str, meta: dict[str, Any], *,
               offer_person: bool = False) -> tuple[Decision, dict[str, Any]]:
        replies: list[dict[str, str]] = []
        if offer_person:
            title = self._text("action.offer_person_button", decision.language)
            replies = [{"title": title, "payload": title}]
        steered = dataclasses.replace(decision, action=action, reason=reason, text=text, intent=intent,
                                      quick_replies=replies, misses=0)
        return steered, meta

    # -- agents' context ----------------------------------------------------------------------

    def recent_orders(self, customer_id: str, language: str = "en") -> dict[str, Any] | None:
        """The customer's recent orders from the action named ``orders`` (None when none is configured)."""
        spec = self._directory.named(ORDERS_ACTION)
        if spec is None:
            return None
        payload = {"action": spec.name, "intent": None, "request_id": f"context#{customer_id}#{self._today()}",
                   "conversation_id": None, "language": language, "slots": {},
                   "customer": {"id": customer_id, "channel": None, "channel_user_id": None}}
        result = self._client.call(spec, payload)
        if result.failure == "not_found":  # the company knows no orders of this customer
            return {"orders": []}
        orders = result.data.get("orders") if result.ok and result.data else None
        if not isinstance(orders, list):
            return {"orders": [], "error": result.failure or "bad_response"}
        return {"orders": [o for o in orders if isinstance(o, dict)][:20]}


_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{2,}")
_SLOT_LIKE = re.compile(r"[A-Za-z]{1,4}-?\d+|[\w.+-]+@[\w.-]+")


def _has_words(text: str) -> bool:
    """Whether ``text`` says something in a language besides slot values (order numbers, e-mails, digits)."""
    return _WORD.search(_SLOT_LIKE.sub(" ", text)) is not None


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def fill(template: str, result: ActionResult, found: Mapping[str, str]) -> str | None:
    """The template filled from the response's top-level scalar fields and the slots; None if one is missing."""
    values = {k: str(v) for k, v in (result.data or {}).items()
              if isinstance(v, str | int | float) and not isinstance(v, bool) and str(v).strip()}
    try:
        return string.Formatter().vformat(template, (), _Fields({**found, **values})).strip() or None
    except (KeyError, ValueError, IndexError):
        return None
