"""Bot actions with slots: every path against a real HTTP server this test starts on a free port.

The dialogue, its slot state and the circuit breaker run on moto's DynamoDB; the company's API is a
threaded HTTP server that verifies the generic webhook signature and answers as the test programs it
(ok, slow, 5xx, not JSON, 404). A slow answer waits on an event the test releases, never on a sleep.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.bot.action_spec import ActionSpec
from chalicelib.bot.actions import slots
from chalicelib.bot.actions.breaker import CircuitBreaker
from chalicelib.bot.actions.client import ActionClient
from chalicelib.bot.actions.dialogue import ActionConfig, ActionDialogue, ActionDirectory, Turn
from chalicelib.bot.actions.state import SlotStateStore
from chalicelib.bot.kb import IntentBody, KnowledgeBaseStore
from chalicelib.bot.policy import Decision
from chalicelib.channels.generic import sign
from chalicelib.i18n import Catalog

SECRET = "test-company-secret-0001"
TEMPLATES = {"zh": "订单 {order_number} 当前状态：{status}，承运商：{carrier}，预计 {eta} 送达。",
             "en": "Order {order_number} is {status} with {carrier}, arriving {eta}."}
OK_BODY = {"status": "已发货", "carrier": "顺丰速运", "eta": "2026-12-04"}


class CompanyApi:
    """The company's API as the test programs it: a queue of answers, every request recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, Any]] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with api.lock:
                    api.requests.append({"path": self.path, "headers": dict(self.headers), "raw": body,
                                         "body": json.loads(body)})
                    status, payload = api.answers.pop(0) if api.answers else (200, OK_BODY)
                if status == "slow":
                    api.release.wait(30)
                    status, payload = 200, OK_BODY
                data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def program(self, *answers: tuple[Any, Any]) -> None:
        with self.lock:
            self.answers.extend(answers)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def company():
    api = CompanyApi()
    yield api
    api.close()


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def clock():
    return Clock()


def _spec(url: str, **overrides: Any) -> dict[str, Any]:
    return {"name": "order_status", "url": url, "secret": "COMPANY_SECRET", "slots": ["order_number"],
            "templates": TEMPLATES, "order_number_pattern": r"NW\d{5}", "timeout_seconds": 0.5, **overrides}


def _intent(action: dict[str, Any] | None) -> IntentBody:
    return IntentBody.model_validate({"examples": ["我的订单到哪了", "where is my order"],
                                      "answers": {"zh": "见我的订单。", "en": "See My orders."}, "action": action})


class Bot:
    """The dialogue as the bot's listener drives it, with the company API's settings configured."""

    def __init__(self, table: Any, company: CompanyApi, clock: Clock, threshold: int = 5) -> None:
        self.kb = KnowledgeBaseStore(table)
        self.kb.put("track_order", _intent(_spec("{COMPANY_API}/orders/status")), actor="test")
        self.config = {"COMPANY_API": company.url, "COMPANY_SECRET": SECRET}
        self.breaker = CircuitBreaker(table, threshold=threshold, cooldown_ms=30_000, clock=clock)
        self.history: list[str] = []
        self.dialogue = ActionDialogue(
            directory(self.kb), ActionClient(self.config.get, self.breaker, sleep=lambda s: None),
            SlotStateStore(table, clock=clock), lambda cid, n: list(reversed(self.history[-n:])),
            lambda customer, channel: "oWECHAT-alice" if channel == "wechat" else None, Catalog(),
            ActionConfig(), today=lambda: date(2026, 12, 2))
        self.n = 0

    def say(self, text: str, decision: Decision | None = None, channel: str = "wechat") -> tuple[Decision, dict]:
        """The customer says ``text``; the policy decided ``decision`` (default: answer track_order)."""
        self.n += 1
        language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) or text.startswith("NW") else "en"
        decision = decision or Decision("answer", "confident", language, "见我的订单。", intent="track_order",
                                        confidence=0.9)
        steered = self.dialogue.steer(Turn("conv-1", "alice", channel, f"m{self.n}", text), decision)
        self.history.append(text)
        return steered if steered is not None else (decision, {})


def directory(kb: KnowledgeBaseStore) -> ActionDirectory:
    """As services.py wires it."""
    return ActionDirectory(lambda: kb.version(consistent=False), kb.actions)


def fallback(language: str = "zh") -> Decision:
    return Decision("fallback", "out_of_scope", language, "抱歉，我没有理解您的问题。", misses=1)


@pytest.fixture
def bot(table_client, company, clock):
    return Bot(table_client, company, clock)


@pytest.fixture
def table_client(aws: Any):
    from chalicelib import services as composition

    return composition.services().table


# -- success ------------------------------------------------------------------------------------------


def test_success_answers_from_the_company_api_signed_with_the_customer_and_channel(bot, company):
    decision, meta = bot.say("我的订单 NW10001 到哪了？")
    assert decision.text == "订单 NW10001 当前状态：已发货，承运商：顺丰速运，预计 2026-12-04 送达。"
    assert (decision.action, decision.reason, decision.intent) == ("answer", "action_ok", "track_order")
    assert meta["outcome"] == "ok" and meta["slots"] == ["order_number"] and meta["attempts"] == 1
    [request] = company.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-signature"] == sign(SECRET, headers["x-signature-timestamp"], request["raw"])
    assert request["path"] == "/orders/status"
    body = request["body"]
    assert body["slots"] == {"order_number": "NW10001"} and body["language"] == "zh"
    assert body["customer"] == {"id": "alice", "channel": "wechat", "channel_user_id": "oWECHAT-alice"}


def test_english_customer_gets_the_english_template(bot, company):
    company.program((200, {"status": "shipped", "carrier": "SF Express", "eta": "2026-12-04"}))
    decision, _ = bot.say("where is order nw10001?")
    assert decision.text == "Order NW10001 is shipped with SF Express, arriving 2026-12-04."


def test_the_slot_comes_from_earlier_in_the_conversation(bot, company):
    bot.history.append("我昨天下的单 NW10002，手机 138 0013 8000")
    decision, _ = bot.say("到哪了")
    assert decision.reason == "action_ok" and company.requests[0]["body"]["slots"] == {"order_number": "NW10002"}


# -- missing slot asked and filled, asked twice then a person, cancel -----------------------------------


def test_missing_slot_is_asked_in_chinese_and_the_answer_fills_it(bot, company):
    asked, meta = bot.say("我的订单到哪了")
    assert asked.text == "请告诉我您的订单号，我帮您查询。" and asked.reason == "slot_asked"
    assert meta == {"name": "order_status", "intent": "track_order", "outcome": "asked", "slot": "order_number",
                    "asks": 1}
    assert company.requests == []
    answered, _ = bot.say("NW10003", fallback())  # the policy did not understand a bare number; the slot did
    assert answered.reason == "action_ok" and "NW10003" in answered.text
    assert company.requests[0]["body"]["slots"] == {"order_number": "NW10003"}


def test_missing_slot_is_asked_at_most_twice_then_a_person_is_offered(bot, company):
    first, _ = bot.say("我的订单到哪了")
    second, _ = bot.say("我不记得了", fallback())
    third, meta = bot.say("嗯", fallback())
    assert first.text == "请告诉我您的订单号，我帮您查询。"
    assert second.text.startswith("抱歉，我没有看到订单号") and second.reason == "slot_asked"
    assert third.action == "fallback" and third.reason == "slot_not_given" and "转人工" in third.text
    assert third.quick_replies == [{"title": "转人工", "payload": "转人工"}] and meta["outcome"] == "offered_person"
    assert bot.say("NW10001", fallback())[0].reason == "out_of_scope"  # nothing is waiting any more
    assert company.requests == []


@pytest.mark.parametrize("cancel", ["算了", "算了吧！", "never mind", "Never mind.", "forget it"])
def test_cancel_drops_the_waiting_action(bot, company, cancel):
    bot.say("我的订单到哪了")
    decision, meta = bot.say(cancel, fallback())
    assert decision.reason == "action_cancelled" and meta["outcome"] == "cancelled"
    assert decision.text in ("好的，已为您取消。还有其他可以帮您的吗？",
                             "OK, cancelled. Is there anything else I can help with?")
    assert bot.say("NW10001", fallback())[0].reason == "out_of_scope"
    assert company.requests == []


def test_asking_for_a_person_while_a_slot_is_asked_hands_over(bot, company):
    bot.say("我的订单到哪了")
    handoff = Decision("handoff", "customer_request", "zh", "正在为您转接人工客服")
    assert bot.say("转人工", handoff)[0] is handoff
    assert bot.say("NW10001", fallback())[0].reason == "out_of_scope"


def test_another_confident_question_while_a_slot_is_asked_is_answered(bot, company):
    bot.say("我的订单到哪了")
    hours = Decision("answer", "confident", "zh", "门店每天10:00-22:00营业。", intent="store_hours", confidence=0.95)
    assert bot.say("门店几点开门", hours)[0] is hours


# -- failures: timeout, 5xx, circuit open, bad response, not found, not configured ----------------------


def test_timeout_is_retried_once_then_a_polite_fallback_with_a_person_offered(bot, company):
    company.program(("slow", None), ("slow", None))
    decision, meta = bot.say("我的订单 NW10001 到哪了")
    assert decision.action == "fallback" and decision.reason == "action_timeout"
    assert decision.text == "抱歉，暂时查询不到相关信息，请稍后再试。如需人工服务，请回复“转人工”。"
    assert decision.quick_replies == [{"title": "转人工", "payload": "转人工"}]
    assert meta["failure"] == "timeout" and meta["attempts"] == 2 and len(company.requests) == 2


def test_5xx_is_retried_and_a_second_success_answers(bot, company):
    company.program((503, {"error": "busy"}))
    decision, meta = bot.say("我的订单 NW10001 到哪了")
    assert decision.reason == "action_ok" and meta["attempts"] == 2


def test_5xx_twice_is_a_polite_fallback(bot, company):
    company.program((500, {"error": "boom"}), (502, b"<html>bad gateway</html>"))
    decision, meta = bot.say("where is my order NW10001")
    assert decision.reason == "action_server_error" and meta["status"] == 502
    assert decision.text.startswith("Sorry, I can't look that up right now")
    assert decision.quick_replies == [{"title": "Talk to a person", "payload": "Talk to a person"}]
    assert "Traceback" not in decision.text and "502" not in decision.text


def test_circuit_opens_after_repeated_failures_and_closes_after_a_success(table_client, company, clock):
    bot = Bot(table_client, company, clock, threshold=2)
    company.program(*[(500, {})] * 4)
    assert bot.say("订单 NW10001")[0].reason == "action_server_error"
    assert bot.say("订单 NW10001")[0].reason == "action_server_error"
    calls = len(company.requests)
    decision, meta = bot.say("订单 NW10001")
    assert decision.reason == "action_circuit_open" and meta["failure"] == "circuit_open"
    assert len(company.requests) == calls  # no call while the circuit is open
    assert "转人工" in decision.text
    clock.ms += 31_000  # half-open after the cooldown: the next call goes through and closes it
    assert bot.say("订单 NW10001")[0].reason == "action_ok"
    assert bot.breaker.check(f"{company.url}/orders/status") == (False, 0)


def test_a_second_container_sees_the_open_circuit(table_client, company, clock):
    one, other = Bot(table_client, company, clock, threshold=1), Bot(table_client, company, clock, threshold=1)
    company.program((500, {}), (500, {}))
    one.say("订单 NW10001")
    assert other.say("订单 NW10001")[0].reason == "action_circuit_open"


@pytest.mark.parametrize("answer", [b"not json", b"[1, 2]", json.dumps({"status": "shipped"}).encode()])
def test_bad_response_is_a_polite_fallback(bot, company, answer):
    company.program((200, answer))
    decision, meta = bot.say("我的订单 NW10001 到哪了")
    assert decision.action == "fallback" and decision.reason == "action_bad_response"
    assert decision.text.startswith("抱歉，暂时查询不到") and meta["outcome"] == "failed"


def test_not_found_for_this_customer_says_so(bot, company):
    company.program((404, {"error": "no such order"}))
    decision, _ = bot.say("我的订单 NW19999 到哪了")
    assert decision.reason == "action_not_found" and decision.text.startswith("抱歉，没有查到与您账号关联")


def test_unconfigured_secret_is_a_polite_fallback_without_a_call(bot, company):
    del bot.config["COMPANY_SECRET"]
    decision, _ = bot.say("我的订单 NW10001 到哪了")
    assert decision.reason == "action_not_configured" and company.requests == []


def test_intents_without_an_action_and_other_decisions_are_left_alone(bot):
    bot.kb.put("store_hours", _intent(None), actor="test")
    hours = Decision("answer", "confident", "zh", "门店每天10:00-22:00营业。", intent="store_hours", confidence=0.9)
    assert bot.say("门店几点开门", hours)[0] is hours
    assert bot.say("随便说说", fallback())[0].reason == "out_of_scope"


# -- slots ----------------------------------------------------------------------------------------------


ORDER = slots.order_number_regex(None)
NW = slots.order_number_regex(r"NW\d{5}")
TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(("slot", "text", "pattern", "value"), [
    ("order_number", "我的订单NW10001到哪了", NW, "NW10001"),
    ("order_number", "订单号：nw10002", NW, "NW10002"),
    ("order_number", "单号 AB-123456 呢", ORDER, "AB-123456"),
    ("order_number", "手机13800138000，订单 20261201001", ORDER, "20261201001"),
    ("order_number", "我的手机是 13800138000", ORDER, None),
    ("order_number", "NW1000123 is too long", NW, None),
    ("phone", "我的手机是 138 0013 8000", ORDER, "13800138000"),
    ("phone", "我的手机是13800138000", ORDER, "13800138000"),
    ("phone", "call +86 138-0013-8000 please", ORDER, "+8613800138000"),
    ("email", "my e-mail is Alice.Wu@Example.com.", ORDER, "alice.wu@example.com"),
    ("date", "我是2026年11月28日下的单", ORDER, "2026-11-28"),
    ("date", "ordered on 2026/11/3", ORDER, "2026-11-03"),
    ("date", "昨天买的", ORDER, "2026-12-01"),
    ("date", "11月31日", ORDER, None),
    ("amount", "退款 ¥59.90 还没到", ORDER, "59.90"),
    ("amount", "付了128元", ORDER, "128"),
    ("amount", "订单 NW10001", NW, None),
])
def test_slot_values_are_found_and_normalised(slot, text, pattern, value):
    assert slots.find(slot, text, order_pattern=pattern, today=TODAY) == value


@pytest.mark.parametrize(("text", "cancel"), [("算了", True), ("算了吧。", True), ("Never mind!", True),
                                              ("不用了", True), ("取消订单", False), ("算了算了我要退款", False),
                                              ("never mind the box, where is the order", False)])
def test_cancel_phrases_are_whole_messages(text, cancel):
    assert slots.is_cancel(text) is cancel


# -- definitions validated on save ------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "message"), [
    ({"url": "http://shop.example.com/status"}, "https://"),
    ({"url": "ftp://localhost/x"}, "https://"),
    ({"secret": "my actual secret value"}, "NAME of a configured secret"),
    ({"templates": {"zh": "状态：{status!r}"}}, "plain field names"),
    ({"templates": {"en": "Status: {status"}}, "malformed"),
    ({"templates": {}}, "template in at least one language"),
    ({"slots": ["shoe_size"]}, "order_number"),
    ({"order_number_pattern": "NW(\\d"}, "regular expression"),
    ({"timeout_seconds": 5}, "less than or equal to 2"),
    ({"retries": 3}, "less than or equal to 2"),
])
def test_invalid_actions_are_refused(change, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message.replace("(", "\\(")):
        ActionSpec.model_validate({**_spec("https://shop.example.com/status"), **change})


def test_action_urls_may_name_their_base_in_configuration():
    spec = ActionSpec.model_validate(_spec("{SHOP_API_URL}/actions/order-status"))
    assert spec.resolved_url({"SHOP_API_URL": "https://api.shop.example/"}) == \
        "https://api.shop.example/actions/order-status"
    assert spec.resolved_url({}) is None
