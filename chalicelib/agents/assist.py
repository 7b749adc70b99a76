"""AI assist: the knowledge-base answers that best fit a customer's message, as suggested replies.

Uses the same live model the bot answers with (`chalicelib/bot/serving.py`), so suggestions follow
knowledge-base edits without a redeploy. The agent picks, edits and sends; nothing is sent for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.bot.serving import LiveModel

MAX_SUGGESTIONS = 3


def suggest_replies(live: LiveModel | None, text: str, limit: int = MAX_SUGGESTIONS) -> list[dict[str, Any]]:
    """Top intents for `text` with their answers in the message's language (best first)."""
    if live is None or not text.strip():
        return []
    prediction = live.model.predict(text)
    suggestions = []
    for intent, score in prediction.top[:limit]:
        entry = live.entry(intent) or {}
        answers = entry.get("answers") or {}
        answer = answers.get(prediction.language) or next((a for a in answers.values() if a), None)
        if answer:
            suggestions.append({"intent": intent, "score": round(float(score), 4), "language": prediction.language,
                                "text": answer})
    return suggestions


class ReplySuggester:
    """Suggestions from whatever model is live in this container (`live_model()` may be None)."""

    def __init__(self, live_model: Callable[[], Any]) -> None:
        self._live_model = live_model

    def suggest(self, text: str) -> list[dict[str, Any]]:
        return suggest_replies(self._live_model(), text)
