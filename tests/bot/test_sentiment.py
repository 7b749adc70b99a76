"""Lexicon/rule sentiment in Chinese and English."""

from __future__ import annotations

import pytest

from chalicelib.bot.sentiment import Sentiment, analyse


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("服务很好，谢谢你们", "positive"),
        ("客服态度真不错，点赞", "positive"),
        ("网速太慢了，真让人失望", "negative"),
        ("一点都不好用", "negative"),
        ("不满意", "negative"),
        ("帮我查一下话费", "neutral"),
        ("好的，我知道了", "neutral"),
        ("thanks, that was really helpful", "positive"),
        ("I am not happy with this", "negative"),
        ("not bad at all", "positive"),
        ("how do I change my plan", "neutral"),
    ],
)
def test_labels(text, label):
    result = analyse(text)
    assert isinstance(result, Sentiment)
    assert result.label == label
    assert -1.0 <= result.score <= 1.0


@pytest.mark.parametrize(
    "text",
    ["你们这帮骗子", "再不处理我就去工信部投诉", "我要找媒体曝光你们", "再乱扣费我就报警",
     "this is a scam", "worst service ever", "I will talk to my lawyer"],
)
def test_anger_and_threats(text):
    result = analyse(text)
    assert result.angry and result.label == "negative"


def test_negated_threat_is_not_anger():
    assert not analyse("问题解决了，不投诉了").angry
