"""Generic signed JSON webhook: HMAC + replay window, parsing and signed callbacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.channels import generic
from chalicelib.channels.errors import MalformedPayload, SignatureError
from chalicelib.channels.models import OutboundMessage, QuickReply, WebhookRequest

from .support import SECRETS, sample

G = generic.GenericAdapter()
KEY = SECRETS["GENERIC_WEBHOOK_SECRET"]
NOW = datetime(2023, 11, 14, 22, 15, tzinfo=UTC)


def signed(body: bytes, *, at: datetime = NOW, key: str = KEY) -> WebhookRequest:
    return WebhookRequest(headers=generic.signed_headers(key, body, at), body=body)


def test_text_event() -> None:
    req = signed(sample("generic", "text.json"))
    G.verify(req, SECRETS, now=NOW)
    (ev,) = G.parse(req, SECRETS)
    assert ev.channel == "generic" and ev.kind == "text"
    assert ev.event_key == "evt_FAKE_0001" and ev.external_user_id == "crm-user-42"
    assert ev.profile_name == "Dana Fake" and ev.reply_context == {"thread_id": "crm-thread-7"}
    assert ev.platform_ts == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_email_with_attachment() -> None:
    req = signed(sample("generic", "email_with_attachment.json"))
    G.verify(req, SECRETS, now=NOW)
    (ev,) = G.parse(req, SECRETS)
    assert ev.external_user_id == "eve@example.invalid" and ev.email == "eve@example.invalid"
    assert ev.media[0].file_name == "charger.jpg" and ev.media[0].mime_type == "image/jpeg"
    assert ev.media[0].size == 204800
    assert ev.reply_context["subject"] == "Broken charger"


def test_batch_and_unknown_type() -> None:
    events = [
        {"id": "a", "from": {"id": "u"}, "type": "text", "text": "hi", "timestamp": 1700000000},
        {"id": "b", "from": {"id": "u"}, "type": "sticker", "timestamp": 1700000001},
        {
            "id": "c",
            "from": {"id": "u"},
            "type": "location",
            "location": {"lat": 1.5, "lon": 2.5},
            "timestamp": 1,
        },
    ]
    req = signed(json.dumps({"events": events}).encode())
    G.verify(req, SECRETS, now=NOW)
    parsed = G.parse(req, SECRETS)
    assert [(e.kind, e.raw_type) for e in parsed] == [
        ("text", "text"),
        ("unsupported", "sticker"),
        ("location", "location"),
    ]
    assert parsed[2].location is not None and parsed[2].location.lon == 2.5


def test_signature_rejections_before_parsing() -> None:
    body = sample("generic", "text.json")
    good = signed(body)
    with pytest.raises(SignatureError):
        G.verify(WebhookRequest(headers=dict(good.headers), body=body + b"\n"), SECRETS, now=NOW)
    with pytest.raises(SignatureError):
        G.verify(signed(body, key="wrong"), SECRETS, now=NOW)
    with pytest.raises(SignatureError) as exc:
        G.verify(
            WebhookRequest(headers={"X-Signature": good.header("X-Signature")}, body=body), SECRETS, now=NOW
        )
    assert exc.value.status == 401
    # ordering: invalid JSON, bad signature → SignatureError
    with pytest.raises(SignatureError):
        G.verify(signed(b"{{{", key="wrong"), SECRETS, now=NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=6), timedelta(minutes=-6), timedelta(days=-3650)])
def test_stale_or_future_timestamp_rejected(skew: timedelta) -> None:
    req = signed(sample("generic", "text.json"), at=NOW + skew)
    with pytest.raises(SignatureError, match="window"):
        G.verify(req, SECRETS, now=NOW)


def test_window_edges_and_rotation() -> None:
    body = sample("generic", "text.json")
    G.verify(signed(body, at=NOW - timedelta(minutes=4, seconds=59)), SECRETS, now=NOW)
    old = generic.sign("old-secret", int(NOW.timestamp()), body)
    good = generic.sign(KEY, int(NOW.timestamp()), body)
    headers = {"X-Signature-Timestamp": str(int(NOW.timestamp())), "X-Signature": f"{old}, {good}"}
    G.verify(WebhookRequest(headers=headers, body=body), SECRETS, now=NOW)
    headers["X-Signature-Timestamp"] = "99999999999999999999"
    with pytest.raises(SignatureError):
        G.verify(WebhookRequest(headers=headers, body=body), SECRETS, now=NOW)


@pytest.mark.parametrize(
    "body",
    [
        b"{{{",
        b'{"id":"x","type":"text","timestamp":1}',
        b'{"id":"x","from":{},"type":"text","timestamp":1}',
        b'{"id":"x","from":{"id":"u"},"type":"text","timestamp":"yesterday"}',
        b'{"id":"x","from":{"id":"u"},"type":"text","timestamp":1,"attachments":[{}]}',
    ],
)
def test_valid_signature_malformed_body(body: bytes) -> None:
    req = signed(body)
    G.verify(req, SECRETS, now=NOW)
    with pytest.raises(MalformedPayload):
        G.parse(req, SECRETS)


def test_prepare_send_is_signed_like_inbound() -> None:
    msg = OutboundMessage(
        channel="generic",
        recipient_id="crm-user-42",
        text="We will call you at 3pm.",
        quick_replies=[QuickReply(title="OK", payload="ok")],
        reply_context={"thread_id": "crm-thread-7"},
    )
    (call,) = G.prepare_send(msg, SECRETS, now=NOW)
    assert call.method == "POST" and call.url == SECRETS["GENERIC_CALLBACK_URL"]
    assert call.body is not None
    payload = json.loads(call.body)
    assert payload["to"] == {"id": "crm-user-42"} and payload["text"] == "We will call you at 3pm."
    assert payload["quick_replies"] == [{"title": "OK", "payload": "ok"}]
    assert payload["context"] == {"thread_id": "crm-thread-7"}
    assert call.headers["Idempotency-Key"] == payload["id"]
    # the receiving side can verify it with the inbound verifier
    G.verify(WebhookRequest(headers=call.headers, body=call.body), SECRETS, now=NOW + timedelta(seconds=3))
