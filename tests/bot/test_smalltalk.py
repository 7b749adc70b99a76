"""Built-in small talk examples and replies."""

from __future__ import annotations

from chalicelib.bot import smalltalk


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


def test_reply_in_language():
    assert smalltalk.reply("greeting", "zh").startswith("您好")
    assert smalltalk.reply("thanks", "en").startswith("You're welcome")
    assert smalltalk.reply("check_balance", "en") is None
    assert smalltalk.is_smalltalk("goodbye") and not smalltalk.is_smalltalk(None)
