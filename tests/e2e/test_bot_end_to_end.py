"""The bot on the real local stack: the sample KB trained at start-up answers customers over WebSocket."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from websockets.sync.client import connect

from local.token import mint

TIMEOUT = 15
HANDOFF_ZH = "正在为您转接人工客服，请稍候，客服会尽快回复您。"


@pytest.fixture(scope="module")
def bot_live(local_stack):
    """Wait for the background training of the sample KB (local/bot_seed.py prints a line)."""
    deadline = time.time() + 240
    while time.time() < deadline:
        if any("bot: model kb-v" in line and " live " in line for line in local_stack.output):
            return local_stack
        time.sleep(0.5)
    pytest.fail("the sample KB model never went live:\n" + "".join(local_stack.output[-40:]))


def _bot_reply(ws) -> dict:
    """The next bot message (skipping acks and other frames)."""
    for _ in range(20):
        frame = json.loads(ws.recv(timeout=TIMEOUT))
        if frame.get("type") == "message" and frame["message"]["sender"]["type"] == "bot":
            return frame["message"]
    raise AssertionError("no bot message")


def _ask(ws, text: str, n: list[int] = [0]) -> dict:  # noqa: B006 - a counter
    n[0] += 1
    ws.send(json.dumps({"action": "sendMessage", "client_msg_id": f"bot-e2e-{n[0]}", "text": text}))
    return _bot_reply(ws)


def test_customer_gets_kb_answers_in_their_language(bot_live):
    with connect(f"{bot_live.ws}/?token={mint('customer', 'e2e-bot-ann')}") as ws:
        assert _ask(ws, "你好")["text"] == "您好！请问有什么可以帮您？"
        assert _ask(ws, "Is shipping free?")["text"].startswith("Shipping is free on orders over 99 yuan")


def test_chinese_customer_gets_the_real_order_status_from_the_shop_api(bot_live):
    """-- issue 14: the sample KB's order intents call the local shop API (local/shop_api.py) for alice's orders."""
    with connect(f"{bot_live.ws}/?token={mint('customer', 'alice')}") as ws:
        assert _ask(ws, "我的快递到哪了")["text"] == "请告诉我您的订单号，我帮您查询。"
        answer = _ask(ws, "NW10001")["text"]
        assert answer.startswith("订单 NW10001") and "顺丰速运" in answer, answer
        status = _ask(ws, "我的订单 NW10002 到哪了")["text"]
        assert status.startswith("订单 NW10002") and "京东物流" in status, status
        assert _ask(ws, "我的订单 NW10003 到哪了")["text"].startswith("抱歉，没有查到与您账号关联")  # bob's


def test_ambiguous_question_gets_quick_replies_and_tapping_one_answers(bot_live):
    with connect(f"{bot_live.ws}/?token={mint('customer', 'e2e-bot-ben')}") as ws:
        suggestion = _ask(ws, "钱和订单的问题")  # where it is, or a failed payment?
        assert suggestion["text"] == "您是想咨询以下哪个问题？"
        titles = [r["title"] for r in suggestion["meta"]["quick_replies"]]
        assert {"我的订单到哪了？", "付款失败怎么办？"} <= set(titles)

        answer = _ask(ws, suggestion["meta"]["quick_replies"][0]["payload"])
        assert "meta" not in answer and answer["text"].startswith(("请告诉我您的订单号", "请确认银行卡余额"))


def test_three_misses_then_the_customer_waits_for_an_agent(bot_live):
    with connect(f"{bot_live.ws}/?token={mint('customer', 'e2e-bot-cat')}") as ws:
        first = _ask(ws, "what's the weather like in Paris")
        second = _ask(ws, "tell me a joke about cats")
        third = _ask(ws, "who won the football match yesterday")
    assert first["text"] == second["text"] and first["text"].startswith("Sorry, I didn't understand")
    assert third["text"].startswith("I'm connecting you to a human agent")


def test_zhuan_ren_gong_hands_over_at_once(bot_live):
    with connect(f"{bot_live.ws}/?token={mint('customer', 'e2e-bot-dan')}") as ws:
        assert _ask(ws, "转人工")["text"] == HANDOFF_ZH


def test_kb_cli_exports_the_sample_kb(bot_live):
    token = mint("agent", "e2e-admin", role="admin")
    result = subprocess.run([sys.executable, "-m", "chalicelib.cli", "kb", "status", "--api", bot_live.http,
                             "--token", token], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["version"] >= 1 and status["intents"] == 19 and status["model"]["version"] >= 1
    exported = subprocess.run([sys.executable, "-m", "chalicelib.cli", "kb", "export", "--format", "answers_csv",
                               "--api", bot_live.http, "--token", token], capture_output=True, text=True, timeout=60)
    assert exported.stdout.splitlines()[0].startswith("intent,answer_zh,answer_en")
