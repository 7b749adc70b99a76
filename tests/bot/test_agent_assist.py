"""AI assist for agents: knowledge-base answers for the customer's latest message, in their language."""

from __future__ import annotations

from chalicelib.agents.assist import suggest_replies


def test_suggestions_are_kb_answers_in_the_customers_language(kb_model):
    live, _ = kb_model

    zh = suggest_replies(live, "我的退款怎么还没到账")
    en = suggest_replies(live, "where is my parcel?")

    assert zh and zh[0]["intent"] == "refund_status" and zh[0]["text"] == "退款会在1-5个工作日内到账。"
    assert en and en[0]["intent"] == "track_order" and en[0]["language"] == "en"
    assert len(zh) <= 3 and [s["score"] for s in zh] == sorted((s["score"] for s in zh), reverse=True)


def test_no_model_or_no_text_gives_no_suggestions(kb_model):
    live, _ = kb_model
    assert suggest_replies(None, "where is my order") == []
    assert suggest_replies(live, "   ") == []
