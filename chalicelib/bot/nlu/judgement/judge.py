"""Decisions from the rules and the learned heads: does the message ask for a person, how does it feel?

Handoff: a request phrase the rules recognise (转人工, "agent", ...) stays a request, as before;
any other message is a request when the handoff head's probability reaches the heads' threshold
(the head also sees the rules' negation signal, so 不用转人工了 stays a non-request). Without heads
(an artifact older than them, or no model yet) the rules decide alone.

Sentiment: the score is the sentiment head's ``P(positive) - P(negative)`` (the head sees the
lexicon's score and anger flag among its inputs); ``angry`` is set when the head is confident the
message is negative, or when the threat / insult lexicon fires on a message the head also leans
negative on. The labels (negative below -0.2, positive above 0.2) and the policy's
``BOT_NEGATIVE_SENTIMENT`` threshold read that score as they read the rules' score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...handoff import rule_signal
from ...sentiment import Sentiment, analyse, label_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..arrays import Float32, Floats
    from .heads import JudgementHeads

ANGRY_PROBABILITY = 0.8  # the head this sure of "negative" flags anger
LEXICON_ANGER_PROBABILITY = 0.4  # a threat / insult cue counts as anger once the head leans this negative


def wants_human(text: str, probability: float | None, threshold: float) -> bool:
    """Rules first for the clear cases, the head's ``probability`` for the rest (``None``: rules only)."""
    signal = rule_signal(text)
    if signal == 1 or probability is None:
        return signal == 1
    return probability >= threshold


def sentiment(text: str, probs: Sequence[float] | Floats | None) -> Sentiment:
    """Sentiment of ``text`` from the head's ``(negative, neutral, positive)`` ``probs`` (``None``: rules)."""
    rules = analyse(text)
    if probs is None:
        return rules
    p_neg, _, p_pos = (float(v) for v in probs)
    score = p_pos - p_neg
    angry = p_neg >= ANGRY_PROBABILITY or (rules.angry and p_neg >= LEXICON_ANGER_PROBABILITY)
    if angry:
        score = min(score, -0.6)
    return Sentiment(label=label_of(score), score=round(score, 4), angry=angry)


def judge_many(texts: list[str], centred: Float32, heads: JudgementHeads | None) -> list[tuple[bool, Sentiment]]:
    """Handoff and sentiment for ``texts`` whose centred embeddings are the rows of ``centred``."""
    if heads is None:
        return [(wants_human(t, None, 0.5), sentiment(t, None)) for t in texts]
    ho = heads.handoff_prob(texts, centred)
    se = heads.sentiment_probs(texts, centred)
    return [(wants_human(t, float(h), heads.handoff_threshold), sentiment(t, s))
            for t, h, s in zip(texts, ho, se, strict=True)]
