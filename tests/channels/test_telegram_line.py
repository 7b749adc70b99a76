"""Telegram and LINE adapters: secret/signature checks, parsing and send shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.channels.errors import MalformedPayload, SignatureError
from chalicelib.channels.line import LineAdapter
from chalicelib.channels.models import OutboundMessage, QuickReply, WebhookRequest
from chalicelib.channels.telegram import TelegramAdapter

from .support import SECRETS, line_request, sample, sample_json

TG = TelegramAdapter()
LN = LineAdapter()
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def tg_request(body: bytes, token: str = SECRETS["TELEGRAM_SECRET_TOKEN"]) -> WebhookRequest:
    return WebhookRequest(headers={"X-Telegram-Bot-Api-Secret-Token": token}, body=body)


def tg_parse(name: str):
    req = tg_request(sample("telegram", name))
    TG.verify(req, SECRETS)
    return TG.parse(req, SECRETS, now=NOW)


def ln_parse(name: str):
    req = line_request(sample("line", name))
    LN.verify(req, SECRETS)
    return LN.parse(req, SECRETS)


# --- Telegram -----------------------------------------------------------------------------------


def test_telegram_text() -> None:
    (ev,) = tg_parse("message_text.json")
    assert ev.channel == "telegram" and ev.kind == "text" and ev.text == "/start"
    assert ev.event_key == "900000001" and ev.dedup_key == "telegram:900000001"
    assert ev.external_user_id == "500000001" and ev.profile_name == "Tom Fake"
    assert ev.reply_context == {"chat_id": "500000001", "message_id": "101", "chat_type": "private"}
    assert ev.platform_ts == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_telegram_media_location_callback_edit() -> None:
    (photo,) = tg_parse("message_photo.json")
    assert (
        photo.kind == "image"
        and photo.media[0].media_id == "FAKE_PHOTO_LARGE"
        and photo.text == "damaged item"
    )
    (doc,) = tg_parse("message_document.json")
    assert doc.kind == "file" and doc.media[0].file_name == "receipt.pdf"
    assert doc.media[0].mime_type == "application/pdf"
    (loc,) = tg_parse("message_location.json")
    assert (
        loc.kind == "location" and loc.location is not None and loc.location.lat == pytest.approx(52.520008)
    )
    (cb,) = tg_parse("callback_query.json")
    assert cb.kind == "postback" and cb.postback == "HELPFUL_YES" and cb.platform_ts == NOW
    assert cb.reply_context["callback_query_id"] == "4000000000000000001"
    assert cb.reply_context["chat_id"] == "500000001"
    (edit,) = tg_parse("edited_message.json")
    assert edit.kind == "text" and edit.raw_type == "edited_message:text" and edit.event_key == "900000006"


def test_telegram_unsupported_message_kept() -> None:
    payload = sample_json("telegram", "message_text.json")
    del payload["message"]["text"]
    payload["message"]["dice"] = {"emoji": "🎲", "value": 3}
    (ev,) = TG.parse(tg_request(json.dumps(payload).encode()), SECRETS)
    assert ev.kind == "unsupported" and ev.raw_type == "message:dice"


def test_telegram_secret_rejections() -> None:
    body = b"{definitely not json"
    with pytest.raises(SignatureError):
        TG.verify(tg_request(body, token="wrong"), SECRETS)
    with pytest.raises(SignatureError) as exc:
        TG.verify(WebhookRequest(body=body), SECRETS)
    assert exc.value.status == 401
    req = tg_request(body)
    TG.verify(req, SECRETS)
    with pytest.raises(MalformedPayload):
        TG.parse(req, SECRETS)
    with pytest.raises(MalformedPayload):
        TG.parse(tg_request(b'{"message": {"text": "no update id"}}'), SECRETS)
    assert TG.handshake(WebhookRequest(method="GET"), SECRETS)[0] == 405


def test_telegram_prepare_send() -> None:
    msg = OutboundMessage(
        channel="telegram",
        recipient_id="500000001",
        text="Was this helpful?",
        quick_replies=[QuickReply(title="Yes", payload="Y"), QuickReply(title="No", payload="N")],
        reply_context={"chat_id": "500000001"},
    )
    (call,) = TG.prepare_send(msg, SECRETS)
    assert call.url == "https://api.telegram.org/bot123456:FAKE-bot-token/sendMessage"
    assert call.json_body == {
        "chat_id": "500000001",
        "text": "Was this helpful?",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Yes", "callback_data": "Y"}],
                [{"text": "No", "callback_data": "N"}],
            ]
        },
    }
    assert "FAKE-bot-token" not in call.redacted_url()
    photo = OutboundMessage.model_validate(
        {
            "channel": "telegram",
            "recipient_id": "5",
            "text": "cap",
            "media": {"type": "image", "url": "https://files.example.invalid/p.jpg"},
        }
    )
    (call,) = TG.prepare_send(photo, SECRETS)
    assert call.url.endswith("/sendPhoto")
    assert call.json_body == {
        "chat_id": "5",
        "photo": "https://files.example.invalid/p.jpg",
        "caption": "cap",
    }


# --- LINE ---------------------------------------------------------------------------------------


def test_line_text() -> None:
    (ev,) = ln_parse("message_text.json")
    assert ev.channel == "line" and ev.kind == "text" and ev.text == "Hello, is the store open today?"
    assert ev.event_key == "01HFAKETEXT0000000000000"
    assert ev.external_user_id == "U00000000000000000000000000000001"
    assert ev.reply_context["reply_token"] == "fakeReplyToken0000000000000001"
    assert ev.is_redelivery is False
    assert ev.platform_ts == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)


def test_line_other_events() -> None:
    (img,) = ln_parse("message_image.json")
    assert img.kind == "image" and img.media[0].media_id == "480000000000000002"
    (st,) = ln_parse("message_sticker.json")
    assert st.kind == "image" and st.raw_type == "message:sticker" and st.media[0].media_id == "446:1988"
    (loc,) = ln_parse("message_location.json")
    assert loc.kind == "location" and loc.location is not None and loc.location.label == "Fake Shop"
    (fo,) = ln_parse("follow.json")
    assert fo.kind == "follow"
    (un,) = ln_parse("unfollow.json")
    assert un.kind == "unfollow" and un.is_redelivery is True and "reply_token" not in un.reply_context
    (pb,) = ln_parse("postback.json")
    assert pb.kind == "postback" and pb.postback == "action=track&order=FAKE-1003"


def test_line_multiple_events_verify_call_and_unknown() -> None:
    a, b = sample_json("line", "message_text.json"), sample_json("line", "follow.json")
    unknown = dict(b["events"][0], type="memberJoined", webhookEventId="01HFAKEMJ")
    body = json.dumps({"destination": a["destination"], "events": [a["events"][0], b["events"][0], unknown]})
    events = LN.parse(line_request(body.encode()), SECRETS)
    assert [e.kind for e in events] == ["text", "follow", "unsupported"]
    assert events[2].raw_type == "memberJoined"
    empty = line_request(b'{"destination":"Ux","events":[]}')
    LN.verify(empty, SECRETS)
    assert LN.parse(empty, SECRETS) == []


def test_line_signature_rejections() -> None:
    body = sample("line", "message_text.json")
    good = line_request(body)
    with pytest.raises(SignatureError):
        LN.verify(WebhookRequest(headers=dict(good.headers), body=body + b" "), SECRETS)
    with pytest.raises(SignatureError):
        LN.verify(line_request(body, "wrong-secret"), SECRETS)
    with pytest.raises(SignatureError) as exc:
        LN.verify(WebhookRequest(body=body), SECRETS)
    assert exc.value.status == 401
    with pytest.raises(SignatureError):
        LN.verify(line_request(b"not json", "wrong-secret"), SECRETS)
    malformed = line_request(b'{"events":[{"type":"message"}]}')
    LN.verify(malformed, SECRETS)
    with pytest.raises(MalformedPayload):
        LN.parse(malformed, SECRETS)


def test_line_prepare_send_push() -> None:
    msg = OutboundMessage(
        channel="line",
        recipient_id="U00000000000000000000000000000001",
        text="Which store?",
        quick_replies=[QuickReply(title="Shibuya", payload="store=1")],
    )
    (call,) = LN.prepare_send(msg, SECRETS)
    assert call.url == "https://api.line.me/v2/bot/message/push"
    assert call.headers["Authorization"] == "Bearer FAKE_LINE_CHANNEL_TOKEN"
    assert len(call.headers["X-Line-Retry-Key"]) == 36
    assert call.json_body == {
        "to": "U00000000000000000000000000000001",
        "messages": [
            {
                "type": "text",
                "text": "Which store?",
                "quickReply": {
                    "items": [
                        {
                            "type": "action",
                            "action": {
                                "type": "postback",
                                "label": "Shibuya",
                                "data": "store=1",
                                "displayText": "Shibuya",
                            },
                        }
                    ]
                },
            }
        ],
    }
