"""Learned handoff / sentiment heads: training data, artifact round trip, decisions with the rules."""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib.bot.handoff import rule_signal
from chalicelib.bot.nlu import NluModel, embedding
from chalicelib.bot.nlu.embedding import summarise
from chalicelib.bot.nlu.judgement import heads, judge


def test_shipped_training_sets_are_bilingual_and_labelled():
    ho = heads.handoff_examples()
    se = heads.sentiment_examples()
    assert {y for _, y in ho} == {0, 1} and sum(y for _, y in ho) >= 250
    assert {y for _, y in se} == {0, 1, 2}
    for rows in (ho, se):
        texts = [t for t, _ in rows]
        assert any(any("\u4e00" <= c <= "\u9fff" for c in t) for t in texts)
        assert any(t.isascii() for t in texts)


def test_the_trained_model_carries_the_heads_through_its_artifact(tiny_model):
    assert tiny_model.judgement is not None
    loaded = NluModel.from_bytes(tiny_model.to_bytes())
    assert loaded.judgement is not None
    texts = ["有没有人能帮我看看", "我要去工信部投诉你们", "查一下话费"]
    for a, b in zip(tiny_model.judge_many(texts), loaded.judge_many(texts), strict=True):
        assert a.wants_human == b.wants_human and a.sentiment.label == b.sentiment.label
        assert a.prediction.intent == b.prediction.intent
        assert abs(a.sentiment.score - b.sentiment.score) < 0.02


def test_an_artifact_without_heads_still_loads_and_judges_by_the_rules(tiny_model):
    old = dataclasses.replace(tiny_model, judgement=None)
    loaded = NluModel.from_bytes(old.to_bytes())
    assert loaded.judgement is None
    judged = loaded.judge("转人工")
    assert judged.wants_human and judged.prediction.language == "zh"
    assert loaded.judge("你们是骗子").sentiment.angry


def test_judge_matches_predict_and_finds_requests_the_rules_miss(tiny_model):
    text = "能不能派个人帮我看看"
    assert rule_signal(text) == 0
    judged = tiny_model.judge(text)
    assert judged.prediction == tiny_model.predict(text)
    assert judged.wants_human
    assert not tiny_model.judge("人工智能是什么").wants_human
    assert not tiny_model.judge("不用转人工了，已经解决了").wants_human
    assert tiny_model.judge("转人工").wants_human


def test_negative_sentiment_without_lexicon_words_reaches_anger(tiny_model):
    judged = tiny_model.judge("我已经找好律师了，法院见")
    assert judged.sentiment.label == "negative" and judged.sentiment.score <= -0.6
    assert tiny_model.judge("谢谢，问题解决了").sentiment.label == "positive"


def test_rules_alone_without_probabilities():
    assert judge.wants_human("转人工", None, 0.5)
    assert not judge.wants_human("能不能派个人帮我看看", None, 0.5)
    assert judge.sentiment("你们是骗子", None).angry


def test_the_head_decides_alone_when_there_is_one():
    assert judge.wants_human("能不能派个人帮我看看", 0.9, 0.5)
    assert rule_signal("你是真人吗") == 1  # the rules see 真人 ...
    assert not judge.wants_human("你是真人吗", 0.1, 0.5)  # ... the head, which saw that signal, overrules it


@pytest.mark.parametrize(("text", "signal"), [
    ("转人工", 1), ("不用转人工了", -1), ("人工就不用了", -1), ("我不找人工，自己查", -1), ("call me Alex", -1),
    ("please call me back", 1), ("查一下话费", 0),
])
def test_rule_signal(text, signal):
    assert rule_signal(text) == signal


def _count(text: str) -> int:  # a stand-in tokenizer: one token per character plus 3 for prefix and specials
    return len(text) + 3


def test_summarise_keeps_short_messages_and_fits_long_ones_in_the_budget():
    assert summarise("查一下话费", 16, _count) == "查一下话费"
    long = "您好。" + "我家的宽带从昨天开始一直断网。" * 30 + "请问怎么报修？"
    out = summarise(long, 32, _count)
    assert _count(out) <= 32
    assert out.endswith("请问怎么报修？") and out.startswith("您好。")
    one_clause = "a" * 500
    assert _count(summarise(one_clause, 32, _count)) <= 32


def test_a_long_message_is_summarised_to_the_long_budget_a_question_to_the_normal_one():
    question = "我的宽带断网了，" * 20  # 160 characters: a question, up to MAX_TOKENS
    assert len(question) <= embedding.LONG_CHARS
    assert _count(embedding.encoder_input(question, _count)) <= embedding.MAX_TOKENS
    assert _count(embedding.encoder_input(question, _count)) > embedding.LONG_TOKENS
    pasted = "您好。" + "我家的宽带从昨天开始一直断网。" * 40 + "请帮我转人工"
    summary = embedding.encoder_input(pasted, _count)
    assert _count(summary) <= embedding.LONG_TOKENS
    assert summary.endswith("请帮我转人工")
    assert embedding.encoder_input("   ", _count) == "?"
