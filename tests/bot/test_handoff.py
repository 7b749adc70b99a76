"""Human-handoff rules, including look-alikes and negations."""

from __future__ import annotations

import pytest
from botdata import TELECOM, read_csv

from chalicelib.bot.handoff import wants_human


@pytest.mark.parametrize(
    "text",
    [
        "转人工",
        "我要人工客服",
        "能不能帮我接个真人",
        "有没有活人啊",
        "叫你们领导出来",
        "找你们经理跟我说",
        "麻烦打电话给我",
        "请尽快给我回电",
        "自助搞不定，能人工处理吗",
        "I want to speak to an agent",
        "can I talk to a real person please",
        "let me talk to someone",
        "connect me with a representative",
        "please call me back",
        "转账失败了，帮我转人工",
    ],
)
def test_requests_for_a_human(text):
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "人工智能是什么",
        "你们用的是AI吗",
        "装宽带要收人工费吗",
        "人工降雨会影响信号吗",
        "怎么给朋友转账",
        "话费可以转给别人吗",
        "流量能转给家人吗",
        "积分可以转赠吗",
        "携号转网怎么办理",
        "怎么设置呼叫转移",
        "号码过户要带什么",
        "不用转人工了，已经解决了",
        "不需要人工客服",
        "How does your AI work?",
        "how do I transfer money to my friend",
        "no need for an agent, thanks",
        "are you a human?",
        "查一下话费",
    ],
)
def test_lookalikes_and_negations(text):
    assert not wants_human(text)


def test_telecom_handoff_file():
    path = TELECOM / "handoff.csv"
    if not path.exists():
        pytest.skip("dataset not available")
    rows = read_csv(path)
    correct = sum(wants_human(r["text"]) == (r["expect_handoff"] == "1") for r in rows)
    assert correct / len(rows) >= 0.9
