"""HTTP sender and WeChat token cache against the fake platform server on a free port."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from chalicelib.channels.errors import SendError
from chalicelib.channels.http import ChannelSender, HttpResponse, HttpSender, WeChatTokenCache, classify
from chalicelib.channels.models import HttpCall, OutboundMessage, QuickReply
from local.fake_platforms import FakePlatforms

from .support import SECRETS


@pytest.fixture
def env(fresh_fake: FakePlatforms) -> dict[str, str]:
    return {**SECRETS, **fresh_fake.config()}


def wa_message() -> OutboundMessage:
    return OutboundMessage(
        channel="whatsapp", recipient_id="15551230001", text="hi", reply_context={"phone_number_id": "1001"}
    )


@pytest.mark.parametrize(
    ("message", "path"),
    [
        (wa_message(), "/v21.0/1001/messages"),
        (OutboundMessage(channel="messenger", recipient_id="7", text="hi"), "/v21.0/me/messages"),
        (
            OutboundMessage(channel="telegram", recipient_id="5", text="hi"),
            "/bot123456:FAKE-bot-token/sendMessage",
        ),
        (OutboundMessage(channel="line", recipient_id="U1", text="hi"), "/v2/bot/message/push"),
        (OutboundMessage(channel="generic", recipient_id="c1", text="hi"), "/generic/callback"),
        (OutboundMessage(channel="wechat", recipient_id="o1", text="hi"), "/cgi-bin/message/custom/send"),
    ],
)
def test_send_success_every_platform(
    env, fresh_fake: FakePlatforms, message: OutboundMessage, path: str
) -> None:
    responses = ChannelSender(HttpSender(timeout=5)).send(message, env)
    assert len(responses) == 1 and 200 <= responses[0].status < 300
    recorded = fresh_fake.requests(path)
    assert len(recorded) == 1 and recorded[0]["method"] == "POST"
    assert recorded[0]["json"] is not None


def test_429_then_success_caller_retries(env, fresh_fake: FakePlatforms) -> None:
    fresh_fake.fail("/messages", status=429, times=2)
    sender = ChannelSender(HttpSender(timeout=5))
    attempts = 0
    while True:
        attempts += 1
        try:
            sender.send(wa_message(), env)
            break
        except SendError as exc:
            assert exc.retryable and exc.http_status == 429 and exc.retry_after == 1.0
            assert attempts < 5
    assert attempts == 3
    assert len(fresh_fake.requests("/messages")) == 3


def test_500_is_retryable(env, fresh_fake: FakePlatforms) -> None:
    fresh_fake.fail("/me/messages", status=500, times=100)
    with pytest.raises(SendError) as exc:
        ChannelSender(HttpSender(timeout=5)).send(
            OutboundMessage(channel="messenger", recipient_id="7", text="x"), env
        )
    assert exc.value.retryable and exc.value.http_status == 500
    assert exc.value.platform_error["error"]["code"] == 2


def test_400_is_permanent_with_platform_error(env, fresh_fake: FakePlatforms) -> None:
    body = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    fresh_fake.fail("sendMessage", status=400, times=1, body=body)
    with pytest.raises(SendError) as exc:
        ChannelSender(HttpSender(timeout=5)).send(
            OutboundMessage(channel="telegram", recipient_id="5", text="x"), env
        )
    assert not exc.value.retryable and exc.value.http_status == 400
    assert exc.value.platform_error == body


def test_meta_rate_limit_400_is_retryable(env, fresh_fake: FakePlatforms) -> None:
    fresh_fake.fail(
        "/messages", status=400, times=1, body={"error": {"code": 130429, "message": "throughput"}}
    )
    with pytest.raises(SendError) as exc:
        ChannelSender(HttpSender(timeout=5)).send(wa_message(), env)
    assert exc.value.retryable


def test_platform_errors_inside_200() -> None:
    wechat = HttpCall(channel="wechat", url="http://x/cgi-bin/message/custom/send")
    for code, retryable, expired in (
        (45009, True, False),
        (-1, True, False),
        (40001, True, True),
        (42001, True, True),
        (45015, False, False),
    ):
        with pytest.raises(SendError) as exc:
            classify(wechat, HttpResponse(200, json.dumps({"errcode": code, "errmsg": "e"}).encode()))
        assert (exc.value.retryable, exc.value.token_expired) == (retryable, expired)
    classify(wechat, HttpResponse(200, b'{"errcode":0,"errmsg":"ok"}'))
    tg = HttpCall(channel="telegram", url="http://x/botT/sendMessage")
    with pytest.raises(SendError) as exc:
        classify(tg, HttpResponse(200, b'{"ok":false,"error_code":403,"description":"bot was blocked"}'))
    assert not exc.value.retryable
    line = HttpCall(channel="line", url="http://x/v2/bot/message/push", headers={"X-Line-Retry-Key": "k"})
    classify(line, HttpResponse(409, b'{"message":"The retry key is already accepted"}'))


def test_network_error_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    call = HttpCall(channel="generic", url=f"http://127.0.0.1:{port}/nothing", json={"a": 1})
    with pytest.raises(SendError) as exc:
        HttpSender(timeout=2).execute(call)
    assert exc.value.retryable and exc.value.http_status == 0


def test_wechat_token_fetched_cached_and_refreshed_on_40001(env, fresh_fake: FakePlatforms) -> None:
    clock = [1000.0]
    http = HttpSender(timeout=5)
    sender = ChannelSender(http, WeChatTokenCache(http, clock=lambda: clock[0]))
    message = OutboundMessage(channel="wechat", recipient_id="o1", text="hi")
    sender.send(message, env)
    sender.send(message, env)
    token_calls = fresh_fake.requests("/cgi-bin/token")
    assert len(token_calls) == 1  # cached
    assert token_calls[0]["method"] == "GET"
    assert token_calls[0]["query"] == {
        "grant_type": "client_credential",
        "appid": SECRETS["WECHAT_APP_ID"],
        "secret": SECRETS["WECHAT_APP_SECRET"],
    }
    first_token = fresh_fake.requests("/custom/send")[0]["query"]["access_token"]

    fresh_fake.expire_wechat_tokens()  # the platform now answers 200 + errcode 40001
    sender.send(message, env)
    sends = fresh_fake.requests("/custom/send")
    assert len(fresh_fake.requests("/cgi-bin/token")) == 2
    assert [s["query"]["access_token"] for s in sends[2:]] == [
        first_token,
        sends[-1]["query"]["access_token"],
    ]
    assert sends[-1]["query"]["access_token"] != first_token

    clock[0] += 7200  # past expires_in: proactively refreshed
    sender.send(message, env)
    assert len(fresh_fake.requests("/cgi-bin/token")) == 3


def test_wechat_token_refresh_only_once(env, fresh_fake: FakePlatforms) -> None:
    fresh_fake.fail(
        "/custom/send", status=200, times=5, body={"errcode": 40001, "errmsg": "invalid credential"}
    )
    with pytest.raises(SendError) as exc:
        ChannelSender(HttpSender(timeout=5)).send(
            OutboundMessage(channel="wechat", recipient_id="o", text="x"), env
        )
    assert exc.value.token_expired
    assert len(fresh_fake.requests("/custom/send")) == 2


def test_completed_calls_reported_on_partial_failure(env, fresh_fake: FakePlatforms) -> None:
    msg = OutboundMessage.model_validate(
        {
            "channel": "messenger",
            "recipient_id": "7",
            "text": "caption",
            "quick_replies": [QuickReply(title="a", payload="b").model_dump()],
            "media": {"type": "image", "url": "https://files.example.invalid/p.jpg"},
        }
    )
    sender = ChannelSender(HttpSender(timeout=5))
    calls_before = len(fresh_fake.requests())
    sender.send(msg, env)
    assert len(fresh_fake.requests()) - calls_before == 2
    fresh_fake.reset()
    # second call of the pair fails
    original = sender.http.execute
    count = {"n": 0}

    def flaky(call):
        count["n"] += 1
        if count["n"] == 2:
            raise SendError(503, "down", retryable=True)
        return original(call)

    sender.http.execute = flaky  # type: ignore[method-assign]
    with pytest.raises(SendError) as exc:
        sender.send(msg, env)
    assert exc.value.completed_calls == 1


def test_control_endpoints_over_http(fresh_fake: FakePlatforms) -> None:
    def post(path: str, payload: dict) -> dict:
        req = urllib.request.Request(
            fresh_fake.url + path,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    assert post("/_control/fail", {"path_contains": "/v2/bot/", "status": 500, "times": 1}) == {"ok": True}
    call = HttpCall(
        channel="line", url=fresh_fake.url + "/v2/bot/message/push", json={"to": "U", "messages": []}
    )
    with pytest.raises(SendError) as exc:
        HttpSender(timeout=5).execute(call)
    assert exc.value.retryable
    assert HttpSender(timeout=5).execute(call).status == 200
    with urllib.request.urlopen(fresh_fake.url + "/_control/requests", timeout=5) as resp:
        recorded = json.loads(resp.read())
    assert [r["path"] for r in recorded] == ["/v2/bot/message/push", "/v2/bot/message/push"]
    assert post("/_control/reset", {}) == {"ok": True}
    assert fresh_fake.requests() == []
