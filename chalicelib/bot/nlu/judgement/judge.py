"""Decisions from the rules and the learned heads: does the message ask for a person, how does it feel?

Handoff: the handoff head decides alone: a message is a request when its probability reaches the
heads' threshold. The head sees the rules' verdict among its inputs (a request phrase such as 转人工
or "agent", a negated one such as 不用转人工了), so the clear cases stay clear, but it can overrule a
phrase the rules match in a look-alike (你是真人吗, 真人认证, "a human error on my bill"). Five-fold
cross-validation on the shipped training set chose this over "a rule match always hands over"
(F1 0.935 against 0.899, mean of two fold seeds; ``bot evaluate --task handoff --cv 5``). Without
heads (an artifact older than them, or no model yet) the rules decide alone.

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
from .heads import lexicon_sentiment

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..arrays import Float32, Floats
    from .heads import JudgementHeads

ANGRY_PROBABILITY = 0.8  # the head this sure of "negative" flags anger
LEXICON_ANGER_PROBABILITY = 0.4  # a threat / insult cue counts as anger once the head leans this negative


def wants_human(text: str, probability: float | None, threshold: float) -> bool:
    """The head's ``probability`` against ``threshold``; ``None`` (no heads): the rules' verdict on ``text``."""
    if probability is None:
        return rule_signal(text) == 1
    return probability >= threshold


def sentiment(text: str, probs: Sequence[float] | Floats | None) -> Sentiment:
    """Sentiment of ``text`` from the head's ``(negative, neutral, positive)`` ``probs`` (``None``: rules)."""
    if probs is None:
        return analyse(text)
    rules = lexicon_sentiment(text)
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
