"""The dialogue policy, rule by rule: on the tiny KB model, and on scripted predictions for exact thresholds."""

from __future__ import annotations

import pytest

from chalicelib.bot.handoff import wants_human
from chalicelib.bot.nlu import Prediction
from chalicelib.bot.nlu.types import Judged
from chalicelib.bot.policy import DialoguePolicy, PolicyConfig
from chalicelib.bot.sentiment import analyse
from chalicelib.bot.serving import LiveModel


@pytest.fixture(scope="module")
def live(kb_model):
    return kb_model[0]


class _Scripted:
    """A model whose prediction is given by the test (handoff and sentiment by the rules alone)."""

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction

    def predict(self, text: str) -> Prediction:
        return self.prediction

    def judge(self, text: str) -> Judged:
        return Judged(self.prediction, wants_human=wants_human(text), sentiment=analyse(text))


def _scripted(live: LiveModel, top: list[tuple[str, float]], in_scope: bool = True, language: str = "en") -> LiveModel:
    prediction = Prediction(intent=top[0][0] if in_scope else None, confidence=top[0][1], language=language,
                            top=top, in_scope=in_scope)
    return LiveModel(live.version, _Scripted(prediction), live.kb)


# -- answer --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "intent", "language", "answer"), [
    ("我的快递到哪了？", "track_order", "zh", "在“我的订单”里可以查看物流。"),
    ("where is my parcel", "track_order", "en", "You can track it under My orders."),
    ("周末开门吗", "store_hours", "zh", "门店每天10:00-22:00营业。"),
])
def test_confident_question_is_answered_in_the_customers_language(live, text, intent, language, answer):
    decision = DialoguePolicy().decide(text, live)

    assert (decision.action, decision.reason, decision.intent) == ("answer", "confident", intent)
    assert decision.language == language and decision.text == answer
    meta = decision.meta()
    assert meta["intent"] == intent and meta["confidence"] >= 0.6 and meta["action"] == "answer"
    assert meta["sentiment"] in ("neutral", "positive", "negative") and meta["model_version"] == 1


def test_small_talk_gets_the_built_in_reply(live):
    hello = DialoguePolicy().decide("你好", live)
    thanks = DialoguePolicy().decide("thanks a lot", live)

    assert (hello.action, hello.reason, hello.text) == ("answer", "smalltalk", "您好！请问有什么可以帮您？")
    assert (thanks.action, thanks.reason, thanks.language) == ("answer", "smalltalk", "en")


# -- suggest -------------------------------------------------------------------------------------


def test_close_top_two_are_offered_as_quick_replies(live):
    ambiguous = _scripted(live, [("refund_status", 0.62), ("return_policy", 0.55), ("store_hours", 0.01)])

    decision = DialoguePolicy().decide("I want my money back", ambiguous)

    assert (decision.action, decision.reason) == ("suggest", "ambiguous")
    assert decision.quick_replies == [
        {"title": "When will I get my refund?", "payload": "When will I get my refund?"},
        {"title": "I want to return an item", "payload": "I want to return an item"},  # no title: first example
    ]
    assert decision.meta()["quick_replies"] == decision.quick_replies


def test_mid_confidence_is_a_suggestion_in_chinese(live):
    unsure = _scripted(live, [("track_order", 0.4), ("refund_status", 0.1), ("store_hours", 0.05)],
                       in_scope=False, language="zh")

    decision = DialoguePolicy().decide("东西呢", unsure)

    assert (decision.action, decision.reason) == ("suggest", "mid_confidence")
    assert decision.text == "您是想咨询以下哪个问题？"
    assert decision.quick_replies[0] == {"title": "我的订单到哪了？", "payload": "我的订单到哪了？"}


def test_tapping_a_quick_reply_answers_that_entry(live):
    decision = DialoguePolicy().decide("When will I get my refund?", live)

    assert (decision.action, decision.reason, decision.intent) == ("answer", "quick_reply", "refund_status")
    assert decision.text == "Refunds arrive within 1-5 business days."


def test_thresholds_come_from_the_environment():
    config = PolicyConfig.from_env({"BOT_ANSWER_THRESHOLD": "0.8", "BOT_MAX_MISSES": "5", "BOT_HANDOFF_VIP": "false"})
    assert (config.answer_threshold, config.max_misses, config.handoff_vip) == (0.8, 5, False)
    assert config.suggest_threshold == PolicyConfig().suggest_threshold


# -- handoff -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("转人工", "zh"), ("帮我转人工客服", "zh"), ("I want a human", "en"), ("let me talk to a real person", "en"),
])
def test_asking_for_a_person_hands_over(live, text, language):
    decision = DialoguePolicy().decide(text, live)

    assert (decision.action, decision.reason, decision.language) == ("handoff", "customer_request", language)
    assert decision.text in ("正在为您转接人工客服，请稍候，客服会尽快回复您。",
                             "I'm connecting you to a human agent. Please wait, someone will be with you shortly.")


@pytest.mark.parametrize("text", ["人工智能是什么", "你们用的是人工智能吗", "转账失败了怎么办", "are you an AI?"])
def test_look_alikes_do_not_hand_over(live, text):
    assert DialoguePolicy().decide(text, live).action != "handoff"


@pytest.mark.parametrize("text", ["你们这是骗子！我要投诉！", "This is the worst service ever, I'm furious!!"])
def test_angry_customer_is_handed_over(live, text):
    decision = DialoguePolicy().decide(text, live)

    assert (decision.action, decision.reason) == ("handoff", "negative_sentiment")
    assert decision.meta()["sentiment"] == "negative"


def test_vip_customer_is_handed_over_unless_disabled(live):
    assert DialoguePolicy().decide("where is my order", live, vip=True).reason == "vip"
    no_vip_rule = DialoguePolicy(PolicyConfig(handoff_vip=False))
    assert no_vip_rule.decide("where is my order", live, vip=True).action == "answer"


def test_third_consecutive_miss_hands_over(live):
    policy = DialoguePolicy()
    misses = 0
    actions = []
    for text in ("今天天气怎么样", "what's the capital of France", "推荐一本小说"):
        decision = policy.decide(text, live, misses=misses)
        actions.append((decision.action, decision.reason))
        misses = decision.misses
    assert actions == [("fallback", "out_of_scope"), ("fallback", "out_of_scope"), ("handoff", "repeated_misses")]


def test_an_answer_resets_the_miss_count(live):
    policy = DialoguePolicy()
    assert policy.decide("今天天气怎么样", live, misses=0).misses == 1
    assert policy.decide("where is my order", live, misses=2).misses == 0


def test_without_a_model_the_customer_is_handed_over_with_an_explanation():
    decision = DialoguePolicy().decide("where is my order", None)

    assert (decision.action, decision.reason, decision.language) == ("handoff", "not_trained", "en")
    assert "not trained yet" in decision.text


@pytest.mark.parametrize(("text", "language"), [("我的订单到哪了", "zh"), ("where is my order", "en")])
def test_every_bot_text_is_in_the_customers_language(live, text, language):
    from chalicelib.i18n import language_of

    policy = DialoguePolicy()
    decisions = [policy.decide(text, None), policy.decide("今天天气怎么样" if language == "zh" else
                                                          "what's the capital of France", live),
                 policy.decide("转人工" if language == "zh" else "I want a human", live)]
    assert [d.reason for d in decisions] == ["not_trained", "out_of_scope", "customer_request"]
    assert all(language_of(d.text) == language for d in decisions), [d.text for d in decisions]
