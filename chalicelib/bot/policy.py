"""The dialogue policy: what the bot does with one customer message.

Rules, in order (the first that applies wins; thresholds from :class:`PolicyConfig`, env ``BOT_*``):

1. **Handoff on request** - the customer asks for a person (转人工, 人工客服, "I want a human", 搵个真人,
   "can someone from your team call me", ...; look-alikes such as 人工智能, 人工费 or 转账 do not count):
   the rules of :mod:`chalicelib.bot.handoff` for the clear cases, the model's learned handoff head
   for the rest (:mod:`chalicelib.bot.nlu.judgement`).
2. **Handoff for VIPs** - the customer (token claim / profile ``vip``) is VIP (``BOT_HANDOFF_VIP``, on).
3. **Handoff on strong negative sentiment** - the sentiment (the model's learned head with the lexicon
   of :mod:`chalicelib.bot.sentiment` among its inputs) flags anger, or its score is at or below
   ``BOT_NEGATIVE_SENTIMENT`` (-0.6).
4. **Quick-reply click** - the text is exactly the title of a KB entry the bot offered: answer it.
5. **Small talk** - greeting / thanks / goodbye get the built-in reply.
6. **Answer** - confidence >= ``BOT_ANSWER_THRESHOLD`` (0.6) and the runner-up is more than
   ``BOT_AMBIGUITY_MARGIN`` (0.15) behind: the entry's answer in the customer's language.
7. **Suggest** - ambiguous (top two within the margin) or mid confidence (>= ``BOT_SUGGEST_THRESHOLD``,
   0.2): up to ``BOT_MAX_SUGGESTIONS`` (3) entries as quick replies ``[{title, payload}]``.
8. **Fallback / handoff after misses** - otherwise the bot says it did not understand; this is a miss,
   and the ``BOT_MAX_MISSES``-th (3) consecutive miss hands over to a human instead. An answer or
   small talk resets the count; a suggestion leaves it as it is.

Without a trained model (or with an artifact older than the learned heads) the rules alone decide 1
and 3; without a model, rules 1-3 still apply and any other message is handed over at once, with a
"not trained yet" explanation. Replies are in the customer's language (``Prediction.language``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.bot import smalltalk
from chalicelib.bot.handoff import wants_human
from chalicelib.bot.sentiment import Sentiment, analyse
from chalicelib.i18n import Catalog

if TYPE_CHECKING:
    from collections.abc import Mapping

Action = Literal["answer", "suggest", "handoff", "fallback"]

def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True)
class PolicyConfig:
    answer_threshold: float = 0.6
    suggest_threshold: float = 0.2
    ambiguity_margin: float = 0.15
    max_suggestions: int = 3
    max_misses: int = 3
    negative_sentiment: float = -0.6
    handoff_vip: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PolicyConfig:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            answer_threshold=_env_float(env, "BOT_ANSWER_THRESHOLD", d.answer_threshold),
            suggest_threshold=_env_float(env, "BOT_SUGGEST_THRESHOLD", d.suggest_threshold),
            ambiguity_margin=_env_float(env, "BOT_AMBIGUITY_MARGIN", d.ambiguity_margin),
            max_suggestions=int(_env_float(env, "BOT_MAX_SUGGESTIONS", d.max_suggestions)),
            max_misses=int(_env_float(env, "BOT_MAX_MISSES", d.max_misses)),
            negative_sentiment=_env_float(env, "BOT_NEGATIVE_SENTIMENT", d.negative_sentiment),
            handoff_vip=(env.get("BOT_HANDOFF_VIP") or "true").strip().lower() not in ("0", "false", "no", "off"),
        )


@dataclass(frozen=True)
class Decision:
    """What the bot does, and why; ``meta()`` is what is recorded on the bot's message."""

    action: Action
    reason: str
    language: str
    text: str
    intent: str | None = None
    confidence: float = 0.0
    sentiment: Sentiment | None = None
    quick_replies: list[dict[str, str]] = field(default_factory=list)
    misses: int = 0  # consecutive misses after this message
    model_version: int | None = None

    @property
    def handoff(self) -> bool:
        return self.action == "handoff"

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "intent": self.intent, "confidence": round(float(self.confidence), 4), "action": self.action,
            "reason": self.reason, "language": self.language, "misses": self.misses,
        }
        if self.sentiment is not None:
            out["sentiment"] = self.sentiment.label
            out["sentiment_score"] = self.sentiment.score
        if self.quick_replies:
            out["quick_replies"] = self.quick_replies
        if self.model_version is not None:
            out["model_version"] = self.model_version
        return out


class DialoguePolicy:
    def __init__(self, config: PolicyConfig | None = None, catalog: Catalog | None = None) -> None:
        self.config = config or PolicyConfig()
        self.catalog = catalog or Catalog()

    def decide(self, message: str, live: Any, *, misses: int = 0, vip: bool = False) -> Decision:
        """Decide on one customer message. ``live`` is a :class:`~chalicelib.bot.serving.LiveModel` or None."""
        cfg = self.config
        catalog = self.catalog
        # One embedding of the message serves the intent, the handoff head and the sentiment head.
        judged = live.model.judge(message) if live is not None else None
        prediction = judged.prediction if judged is not None else None
        language = prediction.language if prediction is not None else _language(message)
        sentiment = judged.sentiment if judged is not None else analyse(message)
        asks_for_person = judged.wants_human if judged is not None else wants_human(message)
        version = live.version if live is not None else None
        base = {"language": language, "sentiment": sentiment, "model_version": version,
                "intent": prediction.intent if prediction else None,
                "confidence": prediction.confidence if prediction else 0.0}

        def handoff(reason: str, key: str = "handoff") -> Decision:
            return Decision("handoff", reason, text=catalog.text(f"bot.{key}", language), misses=0, **base)

        if asks_for_person:
            return handoff("customer_request")
        if vip and cfg.handoff_vip:
            return handoff("vip")
        if sentiment.angry or sentiment.score <= cfg.negative_sentiment:
            return handoff("negative_sentiment")
        if live is None or prediction is None:
            return handoff("not_trained", "not_trained")

        clicked = _clicked_quick_reply(message, live)
        if clicked is not None:
            return self._answer(live, clicked, 1.0, "quick_reply", base)
        top = prediction.top
        best, best_conf = (top[0] if top else (None, 0.0))
        runner_up = top[1][1] if len(top) > 1 else 0.0
        if prediction.intent is not None and smalltalk.is_smalltalk(prediction.intent):
            reply = catalog.text(f"bot.smalltalk.{prediction.intent}", language)
            return Decision("answer", "smalltalk", text=reply, misses=0, **base)
        confident = prediction.intent is not None and prediction.confidence >= cfg.answer_threshold
        if confident and prediction.confidence - runner_up > cfg.ambiguity_margin:
            return self._answer(live, prediction.intent, prediction.confidence, "confident", base)
        suggestions = [name for name, conf in top[: cfg.max_suggestions]
                       if conf >= cfg.suggest_threshold * 0.5 and live.entry(name) is not None]
        if best is not None and best_conf >= cfg.suggest_threshold and suggestions:
            if len(suggestions) == 1 and confident:
                return self._answer(live, suggestions[0], best_conf, "confident", base)
            reason = "ambiguous" if confident or best_conf - runner_up <= cfg.ambiguity_margin else "mid_confidence"
            replies = [_quick_reply(live, name, language) for name in suggestions]
            return Decision("suggest", reason, text=catalog.text("bot.suggest", language), quick_replies=replies,
                            misses=misses, **base)
        if misses + 1 >= cfg.max_misses:
            return handoff("repeated_misses")
        return Decision("fallback", "out_of_scope", text=catalog.text("bot.fallback", language),
                        misses=misses + 1, **base)

    @staticmethod
    def _answer(live: Any, intent: str, confidence: float, reason: str, base: dict[str, Any]) -> Decision:
        language = base["language"]
        entry = live.entry(intent) or {}
        answers = entry.get("answers") or {}
        reply = answers.get(language) or next((a for a in answers.values() if a), "")
        fields = {**base, "intent": intent, "confidence": confidence}
        return Decision("answer", reason, text=reply, misses=0, **fields)


def _language(message: str) -> str:
    from chalicelib.bot.nlu.language import detect_language

    return detect_language(message)


def _quick_reply(live: Any, intent: str, language: str) -> dict[str, str]:
    entry = live.entry(intent) or {}
    title = (entry.get("titles") or {}).get(language) or intent
    return {"title": title, "payload": title}


def _clicked_quick_reply(message: str, live: Any) -> str | None:
    """The intent whose quick-reply title is exactly ``message`` (a tapped suggestion)."""
    wanted = message.strip()
    for name, entry in (live.kb.get("intents") or {}).items():
        if wanted and wanted in (entry.get("titles") or {}).values():
            return name
    return None
