"""A customer hears the platform in their own language on every path: queue, agent joined,
survey and thanks, offline; a Chinese conversation gets no English system text, and vice versa."""

from __future__ import annotations

import pytest

from chalicelib.i18n import language_of

WORDS = {
    "zh": ("我的快递三天了还没到，帮我查一下", "麻烦快一点"),
    "en": ("my parcel is three days late, please check", "please hurry"),
}


def _platform_texts(desk, conn: str) -> list[str]:
    """What the platform itself (system, survey, bot) said to the customer."""
    return [f["message"]["text"] for f in desk.frames(conn, "message")
            if f["message"]["sender"]["type"] != "customer" and f["message"]["sender"].get("id") != "amy"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_queue_join_survey_and_thanks_are_in_the_customers_language(desk, language):
    first, second = WORDS[language]
    customer = desk.connect_customer(f"cust-{language}")
    conversation = desk.say(customer, first, "m1")["conversation_id"]
    desk.lam.send(customer, {"action": "requestHuman", "client_msg_id": "h1", "language": language})
    desk.drain()  # nobody online: the customer is told their position
    queued = [f for f in desk.frames(customer, "message") if "queue" in f["message"].get("meta", {})]
    assert len(queued) == 1

    desk.say(customer, second, "m2")
    agent = desk.connect_agent("amy", desk.agent("amy", languages=[language]))
    desk.lam.send(agent, {"action": "accept", "conversation_id": conversation})
    desk.lam.send(agent, {"action": "resolve", "conversation_id": conversation})
    desk.say(customer, "4", "m3")  # answers the CSAT question: tells no language
    desk.say(customer, "9", "m4")  # answers the NPS question

    texts = _platform_texts(desk, customer)
    assert len(texts) == 5, texts  # queued, joined, CSAT, NPS, thanks
    assert all(language_of(t) == language for t in texts), texts
    assert "Amy" in texts[1]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_offline_notice_is_in_the_customers_language(desk, language):
    desk.config(business_hours={"timezone": "UTC", "days": {}})  # never open
    customer = desk.connect_customer(f"late-{language}")
    desk.say(customer, WORDS[language][0], "m1")
    desk.lam.send(customer, {"action": "requestHuman", "client_msg_id": "h1", "language": language})
    desk.drain()
    [offline] = _platform_texts(desk, customer)
    assert language_of(offline) == language


def test_a_company_offline_text_is_sent_as_written(desk):
    desk.config(business_hours={"timezone": "UTC", "days": {}}, offline_message="Back on Monday.")
    customer = desk.connect_customer("mon")
    desk.say(customer, "我的快递到哪了", "m1")
    desk.lam.send(customer, {"action": "requestHuman", "client_msg_id": "h1"})
    desk.drain()
    assert _platform_texts(desk, customer) == ["Back on Monday."]


def test_a_customer_who_switches_language_is_answered_in_the_new_one(desk):
    customer = desk.connect_customer("switch")
    desk.say(customer, "where is my parcel please", "m1")
    desk.say(customer, "我还是用中文吧，我的快递到哪了", "m2")
    desk.lam.send(customer, {"action": "requestHuman", "client_msg_id": "h1"})
    desk.drain()
    [queued] = _platform_texts(desk, customer)
    assert language_of(queued) == "zh"
