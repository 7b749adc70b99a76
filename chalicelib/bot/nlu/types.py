"""Result types of the NLU engine (no heavy imports, safe to use anywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sentiment import Sentiment


@dataclass(frozen=True)
class Prediction:
    """Outcome of classifying one message.

    ``intent`` is ``None`` when the message is out of scope; ``top`` lists the three best intents
    with their calibrated scores even then, so a caller can offer "did you mean ...?" choices.
    """

    intent: str | None
    confidence: float
    language: str
    top: list[tuple[str, float]] = field(default_factory=list)
    in_scope: bool = False


@dataclass(frozen=True)
class Judged:
    """One message judged by a trained model: its intent, whether it asks for a person, its sentiment."""

    prediction: Prediction
    wants_human: bool
    sentiment: Sentiment
