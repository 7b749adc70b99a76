"""Built-in small talk examples and replies."""

from __future__ import annotations

from chalicelib.bot import smalltalk
from chalicelib.i18n import Catalog


def test_merge_adds_missing_smalltalk_only():
    merged = smalltalk.merge_examples([("hi!", "greeting"), ("查话费", "check_balance")])
    greetings = [t for t, i in merged if i == "greeting"]
    assert greetings == ["hi!"]
    assert any(i == "thanks" for _, i in merged) and any(i == "goodbye" for _, i in merged)


def test_examples_cover_both_languages():
    for intent in smalltalk.INTENTS:
        texts = smalltalk.EXAMPLES[intent]
        assert any(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)
        assert any(t.isascii() for t in texts)


def test_every_small_talk_intent_has_a_reply_in_every_language():
    catalog = Catalog()
    assert catalog.text("bot.smalltalk.greeting", "zh").startswith("您好")
    assert catalog.text("bot.smalltalk.thanks", "en").startswith("You're welcome")
    for intent in smalltalk.INTENTS:
        assert set(catalog.variants(f"bot.smalltalk.{intent}")) == {"en", "zh"}
    assert smalltalk.is_smalltalk("goodbye") and not smalltalk.is_smalltalk(None)
