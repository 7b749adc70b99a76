"""line-bot-sdk as LINE's independent peer: its SignatureValidator and WebhookParser agree with what we
accept, and what we push passes its request models (issue 13)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from channels.support import SECRETS, line_request, sample
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import PushMessageRequest
from linebot.v3.webhook import SignatureValidator

from chalicelib.channels.errors import PolicyViolation, SignatureError
from chalicelib.channels.line import LineAdapter
from chalicelib.channels.models import OutboundMedia, OutboundMessage, QuickReply, Template, WebhookRequest
from chalicelib.channels.policies import check_and_split
from chalicelib.channels.registry import POLICIES

SECRET = SECRETS["LINE_CHANNEL_SECRET"]
A = LineAdapter()
SAMPLES = ["message_text.json", "message_image.json", "message_location.json", "message_sticker.json",
           "postback.json", "follow.json", "unfollow.json"]


def _signature(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("name", SAMPLES)
def test_what_lines_parser_accepts_we_accept_with_the_same_ids(name):
    body = sample("line", name)
    signature = _signature(body)
    assert SignatureValidator(SECRET).validate(body.decode(), signature)
    theirs = WebhookParser(SECRET).parse(body.decode(), signature)

    request = WebhookRequest(headers={"x-line-signature": signature}, body=body)
    A.verify(request, SECRETS)
    ours = A.parse(request, SECRETS)
    assert [e.event_key for e in ours] == [e.webhook_event_id for e in theirs]
    assert [e.external_user_id for e in ours] == [e.source.user_id for e in theirs]
    for event, their in zip(ours, theirs, strict=True):
        if getattr(their, "message", None) is not None and getattr(their.message, "text", None) is not None:
            assert event.text == their.message.text


@pytest.mark.parametrize("tamper", ["body", "secret", "signature"])
def test_what_lines_validator_refuses_we_refuse(tamper):
    body = sample("line", "message_text.json")
    signature = _signature(body, SECRET + "x" if tamper == "secret" else SECRET)
    if tamper == "body":
        body = body.replace(b"\"text\"", b"\"text\" ", 1)
    if tamper == "signature":
        signature = signature[:-4] + "AAA="
    assert not SignatureValidator(SECRET).validate(body.decode(), signature)
    with pytest.raises(InvalidSignatureError):
        WebhookParser(SECRET).parse(body.decode(), signature)
    with pytest.raises(SignatureError):
        A.verify(WebhookRequest(headers={"x-line-signature": signature}, body=body), SECRETS)


def test_our_test_signer_is_lines_algorithm():
    body = sample("line", "message_text.json")
    request = line_request(body)
    assert SignatureValidator(SECRET).validate(body.decode(), request.header("x-line-signature"))


_SENDS = [
    OutboundMessage(channel="line", recipient_id="U1234567890abcdef1234567890abcdef", text="こんにちは"),
    OutboundMessage(channel="line", recipient_id="U1234567890abcdef1234567890abcdef", text="Rate us",
                    quick_replies=[QuickReply(title=str(n), payload=f"csat:{n}") for n in range(1, 6)]),
    OutboundMessage(channel="line", recipient_id="U1234567890abcdef1234567890abcdef",
                    media=OutboundMedia(type="image", url="https://example.invalid/p.jpg")),
    OutboundMessage(channel="line", recipient_id="U1234567890abcdef1234567890abcdef", text="x" * 12000),
]


@pytest.mark.parametrize("message", _SENDS, ids=["text", "quick_replies", "image", "long_text"])
def test_what_we_push_passes_lines_request_model(message):
    # what the outbound consumer sends
    parts = check_and_split(message, POLICIES["line"], datetime.now(UTC), datetime.now(UTC))
    for call in (c for part in parts for c in A.prepare_send(part, SECRETS)):
        assert call.url.endswith("/v2/bot/message/push")
        payload = json.loads(call.encoded_body() or b"")
        model = PushMessageRequest.from_dict(payload)  # raises on a body LINE's model does not accept
        assert model is not None
        # nothing we send is dropped or changed by the model (it only adds its default notificationDisabled)
        assert json.loads(model.to_json()) == {"notificationDisabled": False, **payload}
        assert 1 <= len(payload["messages"]) <= 5  # the push API takes at most five messages
        for item in payload["messages"]:
            if item["type"] == "text":
                assert len(item["text"]) <= 5000  # LINE's limit; its model does not check it, we do


def test_a_template_is_refused_not_sent():
    message = OutboundMessage(channel="line", recipient_id="U1", template=Template(name="t"))
    with pytest.raises(PolicyViolation, match="template_unsupported"):
        check_and_split(message, POLICIES["line"], datetime.now(UTC), datetime.now(UTC))
