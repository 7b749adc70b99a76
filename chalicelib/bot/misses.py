"""Learning from misses: every question the bot did not answer itself, recorded for review and grouped by meaning.

A *miss* is one customer message the bot failed on, keyed by that message, with its context. The
:class:`MissRecorder` subscribes to the domain events and records:

- ``fallback``: the bot did not understand (bot message with action ``fallback``);
- ``suggest``: the bot offered quick replies; when the customer then taps one (the bot answers with
  reason ``quick_reply``) the ``suggest`` mark is taken off again, so only suggestions the customer
  did not pick stay misses;
- ``handoff``: the bot handed over (action ``handoff``) or the customer / a supervisor asked for a
  person (``HandoffRequested``). The question is the customer's latest message that is not itself a
  request for a person ("转人工" says nothing about what to add to the knowledge base), or that
  request when there is nothing else;
- ``agent_answer``: an agent answered after a handoff: the customer's latest question before the
  reply gets the agent's reply (up to three) and, when the reply is (or contains, or nearly equals)
  an answer of the knowledge base, that entry as ``kb_answer_intent`` (what AI assist inserts).

Texts are stored redacted with the analytics redaction (:func:`chalicelib.analytics.redact.redact_text`).
One item per customer message (``MISSES#<day>#<shard>`` / ``<ts ms>#<message id>``, see
``docs/data-model.md``), written with ``UpdateItem`` so a redelivered event changes nothing and the
several reasons one question can have (a fallback, then a handoff, then the agent's answer) add up on
one item (``kinds``). :func:`cluster_misses` groups them by meaning with the bot's sentence encoder.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib.analytics.redact import redact_text
from chalicelib.bot.handoff import wants_human
from chalicelib.store import keys
from chalicelib.store.codec import decode, encode_value
from chalicelib.store.table import ConditionFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from chalicelib.bot.nlu.arrays import Float32
    from chalicelib.core.events import HandoffRequested, MessageStored
    from chalicelib.core.models import Message
    from chalicelib.store.table import Table

logger = Logger(child=True)

MISS_KINDS = ("fallback", "suggest", "handoff", "agent_answer")
RETENTION_DAYS = 180
MAX_AGENT_REPLIES = 3
RECENT_MESSAGES = 20
MAX_TEXT = 1000
KB_ANSWER_SIMILARITY = 0.85
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Miss:
    """One recorded miss as read back."""

    day: str
    sk: str
    message_id: str
    conversation_id: str
    ts_ms: int
    text: str
    channel: str
    language: str | None
    kinds: tuple[str, ...]
    reason: str | None = None
    guessed_intent: str | None = None
    confidence: float | None = None
    suggested: tuple[str, ...] = ()
    agent_replies: tuple[str, ...] = ()
    kb_answer_intent: str | None = None
    assigned_intent: str | None = None

    @property
    def id(self) -> str:
        return f"{self.day}/{self.sk}"

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Miss:
        return cls(day=str(item["day"]), sk=str(item["sk"]), message_id=str(item["message_id"]),
                   conversation_id=str(item.get("conversation_id") or ""), ts_ms=int(item.get("ts_ms") or 0),
                   text=str(item.get("text") or ""), channel=str(item.get("channel") or ""),
                   language=item.get("language"), kinds=tuple(sorted(item.get("kinds") or ())),
                   reason=item.get("reason"), guessed_intent=item.get("guessed_intent"),
                   confidence=float(item["confidence"]) if item.get("confidence") is not None else None,
                   suggested=tuple(item.get("suggested") or ()), agent_replies=tuple(item.get("agent_replies") or ()),
                   kb_answer_intent=item.get("kb_answer_intent"), assigned_intent=item.get("assigned_intent"))


def day_of(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


class MissStore:
    """Misses in the single table, `MISS_SHARDS` partitions per UTC day."""

    def __init__(self, table: Table, retention_days: int = RETENTION_DAYS) -> None:
        self._table = table
        self._retention = retention_days

    @staticmethod
    def _key(ts_ms: int, message_id: str) -> dict[str, Any]:
        pk, sk = keys.miss_key(ts_ms, message_id)
        return {"pk": encode_value(pk), "sk": encode_value(sk)}

    def _miss_key(self, question: Message) -> dict[str, Any]:
        return self._key(question.ts_ms, question.message_id)

    def _base(self, question: Message) -> dict[str, Any]:
        day = day_of(question.ts_ms)
        return {"message_id": question.message_id, "conversation_id": question.conversation_id,
                "ts_ms": question.ts_ms, "day": day, "channel": question.channel,
                "text": redact_text((question.text or "").strip())[:MAX_TEXT], "status": "open",
                "expires_at": question.ts_ms // 1000 + self._retention * 86400}

    def _update(self, question: Message, first: Mapping[str, Any], expression: str, values: dict[str, Any],
                condition: str | None = None) -> None:
        """SET each of ``first`` unless present (names escaped: several are reserved words), then ``expression``."""
        names = {f"#f{i}": name for i, name in enumerate(first)}
        sets = [f"#f{i} = if_not_exists(#f{i}, :f{i})" for i in range(len(first))]
        values = {**values, **{f":f{i}": encode_value(v) for i, v in enumerate(first.values())}}
        kwargs: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        key = self._miss_key(question)
        self._table.update_item(Key=key, UpdateExpression=expression.replace("$SETS", ", ".join(sets)),
                                ExpressionAttributeNames=names, ExpressionAttributeValues=values, **kwargs)

    def record(self, question: Message, kind: str, *, context: Mapping[str, Any] | None = None) -> None:
        """Add ``kind`` to the miss of the customer message ``question`` (created on first use)."""
        first = {**self._base(question), **{k: v for k, v in (context or {}).items() if v is not None}}
        self._update(question, first, "SET $SETS ADD kinds :k", {":k": {"SS": [kind]}})

    def picked(self, question: Message) -> None:
        """The customer tapped one of the suggestions offered for ``question``: not a miss for that reason."""
        with contextlib.suppress(ConditionFailed):  # no miss recorded for it (an older suggestion)
            self._table.update_item(Key=self._miss_key(question),
                                    UpdateExpression="DELETE kinds :k SET picked = :t",
                                    ConditionExpression="attribute_exists(pk)",
                                    ExpressionAttributeValues={":k": {"SS": ["suggest"]}, ":t": {"BOOL": True}})

    def agent_reply(self, question: Message, reply: Message, kb_intent: str | None) -> None:
        """Attach an agent's reply (at most three, each once) to the miss of ``question``, recording it if needed."""
        expression = "SET $SETS, agent_replies = list_append(if_not_exists(agent_replies, :empty), :r)"
        values: dict[str, Any] = {":empty": {"L": []},
                                  ":r": {"L": [encode_value(redact_text(reply.text or "")[:MAX_TEXT])]},
                                  ":k": {"SS": ["agent_answer"]}, ":max": encode_value(MAX_AGENT_REPLIES),
                                  ":mid": encode_value(reply.message_id), ":mids": {"SS": [reply.message_id]}}
        if kb_intent:
            expression += ", kb_answer_intent = :kb"
            values[":kb"] = encode_value(kb_intent)
        with contextlib.suppress(ConditionFailed):  # three replies kept already, or this one (a redelivery)
            self._update(question, self._base(question), expression + " ADD kinds :k, agent_reply_ids :mids", values,
                         condition="(attribute_not_exists(agent_replies) OR size(agent_replies) < :max)"
                                   " AND NOT contains(agent_reply_ids, :mid)")

    def between(self, start: datetime, end: datetime, *, limit: int = 5000) -> list[Miss]:
        """Open misses with ``start <= ts < end``, oldest first (one Query per day and shard)."""
        out: list[Miss] = []
        lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000) - 1
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date() and len(out) < limit:
            found: list[Miss] = []
            for pk in keys.misses_pks(day.isoformat()):
                items = self._table.query_all(
                    KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
                    ExpressionAttributeValues={":pk": encode_value(pk), ":lo": encode_value(keys.miss_sk(lo, "")),
                                               ":hi": encode_value(keys.miss_sk(hi, "\uffff"))})
                for raw in items:
                    item = decode(raw) or {}
                    if item.get("kinds") and item.get("status", "open") == "open":
                        found.append(Miss.from_item(item))
            out += sorted(found, key=lambda m: m.sk)
            day += timedelta(days=1)
        return out[:limit]

    def mark_assigned(self, misses: Iterable[Miss], intent: str, actor: str) -> int:
        n = 0
        for miss in misses:
            self._table.update_item(Key=self._key(miss.ts_ms, miss.message_id),
                                    UpdateExpression="SET #s = :s, assigned_intent = :i, assigned_by = :a",
                                    ExpressionAttributeNames={"#s": "status"},
                                    ExpressionAttributeValues={":s": encode_value("assigned"),
                                                               ":i": encode_value(intent),
                                                               ":a": encode_value(actor)})
            n += 1
        return n


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def kb_answer_in(reply: str, answers: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The KB entry whose answer ``reply`` is, contains or nearly equals (an AI-assist insert), else None."""
    wanted = _norm(reply)
    if not wanted:
        return None
    best, best_ratio = None, 0.0
    for intent, entry in answers.items():
        for answer in ((entry.get("answers") or {}).values()):
            if not answer:
                continue
            candidate = _norm(str(answer))
            if len(candidate) >= 8 and candidate in wanted:
                return intent
            ratio = difflib.SequenceMatcher(None, wanted, candidate).ratio()
            if ratio > best_ratio:
                best, best_ratio = intent, ratio
    return best if best_ratio >= KB_ANSWER_SIMILARITY else None


class MissRecorder:
    """The domain-event subscriber that records misses.

    ``recent(conversation_id, n)`` gives the latest ``n`` messages of a conversation in seq order;
    ``kb_intents()`` the live model's KB entries (``{name: {"answers": {...}}}``, empty without a model).
    """

    def __init__(self, store: MissStore, recent: Callable[[str, int], Sequence[Message]],
                 kb_intents: Callable[[], Mapping[str, Mapping[str, Any]]]) -> None:
        self._store = store
        self._recent = recent
        self._kb_intents = kb_intents

    def on_message_stored(self, event: MessageStored) -> None:
        message = event.message
        if message.visibility != "public" or message.sender.type not in ("bot", "agent"):
            return
        if message.sender.type == "agent":
            self._on_agent_reply(message)
            return
        meta = message.meta or {}
        action, reason = meta.get("action"), meta.get("reason")
        if action in ("fallback", "suggest", "handoff"):
            self._on_bot_miss(message, str(action), meta)
        elif action == "answer" and reason == "quick_reply":
            self._on_pick(message)

    def on_handoff_requested(self, event: HandoffRequested) -> None:
        history = list(self._recent(event.conversation_id, RECENT_MESSAGES))
        question = _question(history, len(history))
        if question is not None:
            self._store.record(question, "handoff", context={**_bot_context(history, question),
                                                             "reason": event.reason})

    # -- internals ---------------------------------------------------------------------------

    def _on_bot_miss(self, message: Message, action: str, meta: Mapping[str, Any]) -> None:
        history = list(self._recent(message.conversation_id, RECENT_MESSAGES))
        replied_to = meta.get("in_reply_to")
        at = next((i for i, m in enumerate(history) if m.message_id == replied_to), None)
        if at is None:
            logger.warning("bot miss without its customer message in the recent history")
            return
        question = history[at] if action != "handoff" else _question(history, at + 1)
        if question is None:
            return
        suggested = [str(q.get("payload") or q.get("title")) for q in meta.get("quick_replies") or []
                     if isinstance(q, dict)]
        self._store.record(question, action, context={
            "language": meta.get("language"), "reason": meta.get("reason"),
            "guessed_intent": meta.get("intent"), "confidence": meta.get("confidence"),
            "suggested": suggested or None})

    def _on_pick(self, message: Message) -> None:
        history = list(self._recent(message.conversation_id, RECENT_MESSAGES))
        for earlier in reversed(history):
            if earlier.seq >= message.seq or earlier.sender.type != "bot":
                continue
            meta = earlier.meta or {}
            if meta.get("action") != "suggest":
                return  # the latest bot message before this answer was no suggestion
            question = next((m for m in history if m.message_id == meta.get("in_reply_to")), None)
            if question is not None:
                self._store.picked(question)
            return

    def _on_agent_reply(self, message: Message) -> None:
        history = list(self._recent(message.conversation_id, RECENT_MESSAGES))
        at = next((i for i, m in enumerate(history) if m.message_id == message.message_id), len(history))
        question = _question(history, at)
        if question is None or not message.text:
            return
        try:
            kb = self._kb_intents()
        except Exception:  # no model yet, or it cannot be loaded: the reply is still recorded
            logger.exception("could not read the live knowledge base")
            kb = {}
        self._store.agent_reply(question, message, kb_answer_in(message.text, kb))


def _question(history: Sequence[Message], before: int) -> Message | None:
    """The customer's question before index ``before``: their latest text message that is not a bare
    request for a person, else their latest message (a handoff is recorded either way)."""
    latest = None
    for m in reversed(history[:before]):
        if m.sender.type == "customer" and m.visibility == "public" and (m.text or "").strip() \
                and m.kind in ("text", "postback"):
            if not wants_human(m.text or ""):
                return m
            latest = latest or m
    return latest


def _bot_context(history: Sequence[Message], question: Message) -> dict[str, Any]:
    """The bot's guess on ``question`` (its decision meta), when it answered it."""
    for m in history:
        meta = m.meta or {}
        if m.sender.type == "bot" and meta.get("in_reply_to") == question.message_id:
            return {"language": meta.get("language"), "guessed_intent": meta.get("intent"),
                    "confidence": meta.get("confidence")}
    return {}


# --------------------------------------------------------------------------- grouping by meaning


# Cosine of centred e5 vectors from which two misses ask the same thing: paraphrases in one language
# score 0.5-0.8, different questions of the same shop mostly below 0.45 (a pair in each language
# rarely reaches it, so a question asked in Chinese and in English makes two groups).
CLUSTER_SIMILARITY = 0.5
MAX_EXAMPLES = 5


@dataclass
class Cluster:
    id: str
    misses: list[Miss] = field(default_factory=list)

    def summary(self, examples: int = MAX_EXAMPLES) -> dict[str, Any]:
        texts = list(dict.fromkeys(m.text for m in self.misses if m.text))
        replies = list(dict.fromkeys(r for m in self.misses for r in m.agent_replies))
        return {
            "id": self.id, "count": len(self.misses), "distinct_texts": len(texts),
            "examples": texts[:examples],
            "kinds": dict(Counter(k for m in self.misses for k in m.kinds).most_common()),
            "languages": dict(Counter(m.language or "unknown" for m in self.misses).most_common()),
            "channels": dict(Counter(m.channel for m in self.misses).most_common()),
            "guessed_intents": dict(Counter(m.guessed_intent for m in self.misses if m.guessed_intent)
                                    .most_common(3)),
            "kb_answer_intents": dict(Counter(m.kb_answer_intent for m in self.misses if m.kb_answer_intent)
                                      .most_common(3)),
            "agent_replies": replies[:3],
            "first_ms": min(m.ts_ms for m in self.misses), "last_ms": max(m.ts_ms for m in self.misses),
        }


def cluster_misses(misses: Sequence[Miss], vectors: Float32,
                   similarity: float = CLUSTER_SIMILARITY) -> list[Cluster]:
    """Group ``misses`` (``vectors``: their unit sentence vectors, one row each), largest group first.

    Leader clustering on the cosine-similarity graph: the miss with the most neighbours above
    ``similarity`` founds a group of itself and its unassigned neighbours, then the next densest of
    the rest, and so on. Deterministic for the same misses, members ordered most central first; a
    group's id is a hash of its founder's key, so it stays put while the founder does.
    """
    import numpy as np

    if not misses:
        return []
    sims = vectors @ vectors.T
    near = sims >= similarity
    free = np.ones(len(misses), dtype=bool)
    degree = near.sum(axis=1)
    clusters: list[Cluster] = []
    order = sorted(range(len(misses)), key=lambda i: (-int(degree[i]), misses[i].ts_ms, misses[i].sk))
    for leader in order:
        if not free[leader]:
            continue
        members = np.flatnonzero(near[leader] & free)
        free[members] = False
        centrality = sims[np.ix_(members, members)].mean(axis=1)
        ranked = [int(members[j]) for j in np.argsort(-centrality, kind="stable")]
        cid = "c" + hashlib.sha256(misses[leader].id.encode()).hexdigest()[:12]
        clusters.append(Cluster(cid, [misses[i] for i in ranked]))
    clusters.sort(key=lambda c: (-len(c.misses), c.misses[0].ts_ms))
    return clusters


def miss_vectors(texts: Sequence[str]) -> Float32:
    """Unit vectors of ``texts`` from the bot's encoder, centred as the intent model centres them.

    The centre is the mean vector of the built-in background examples (what every trained model
    uses too), so similarities between misses spread out as they do for the classifier.
    """
    import numpy as np

    from chalicelib.bot.nlu import background, embedding

    mean = embedding.embed_cached(background.EXAMPLES).mean(axis=0).astype(np.float32)
    return embedding.center(embedding.embed_cached(list(texts)), mean)
