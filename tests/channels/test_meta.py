"""WhatsApp Cloud API and Messenger adapters (Meta signing, parsing, handshake, send shapes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.channels.errors import ConfigurationError, MalformedPayload, PolicyViolation, SignatureError
from chalicelib.channels.messenger import MessengerAdapter
from chalicelib.channels.models import OutboundMessage, QuickReply, Template, WebhookRequest
from chalicelib.channels.whatsapp import WhatsAppAdapter

from .support import SECRETS, meta_request, sample, sample_json

WA = WhatsAppAdapter()
MS = MessengerAdapter()
WA_SECRET = SECRETS["WHATSAPP_APP_SECRET"]
MS_SECRET = SECRETS["MESSENGER_APP_SECRET"]


def wa_parse(name: str):
    req = meta_request(sample("whatsapp", name), WA_SECRET)
    WA.verify(req, SECRETS)
    return WA.parse(req, SECRETS)


def ms_parse(name: str):
    req = meta_request(sample("messenger", name), MS_SECRET)
    MS.verify(req, SECRETS)
    return MS.parse(req, SECRETS)


# --- WhatsApp inbound ---------------------------------------------------------------------------


def test_whatsapp_text() -> None:
    (ev,) = wa_parse("text.json")
    assert ev.channel == "whatsapp" and ev.kind == "text"
    assert ev.text == "Hi, where is my order?"
    assert ev.event_key == "wamid.FAKETEXT01"
    assert ev.external_user_id == "15551230001" and ev.phone == "15551230001"
    assert ev.profile_name == "Ana Fake"
    assert ev.platform_ts == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert ev.reply_context["phone_number_id"] == "100000000000001"


@pytest.mark.parametrize(
    ("name", "kind", "mime", "file_name"),
    [
        ("image.json", "image", "image/jpeg", None),
        ("document.json", "file", "application/pdf", "invoice.pdf"),
        ("audio.json", "audio", "audio/ogg; codecs=opus", None),
    ],
)
def test_whatsapp_media(name: str, kind: str, mime: str, file_name: str | None) -> None:
    (ev,) = wa_parse(name)
    assert ev.kind == kind
    assert ev.media[0].media_id and ev.media[0].mime_type == mime
    assert ev.media[0].file_name == file_name


def test_whatsapp_location_and_replies() -> None:
    (loc,) = wa_parse("location.json")
    assert loc.kind == "location" and loc.location is not None
    assert (loc.location.lat, loc.location.lon, loc.location.label) == (38.7223, -9.1393, "Fake Store")
    (btn,) = wa_parse("interactive_button_reply.json")
    assert (btn.kind, btn.postback, btn.text, btn.raw_type) == (
        "postback",
        "TRACK_ORDER",
        "Track order",
        "interactive:button_reply",
    )
    (lst,) = wa_parse("interactive_list_reply.json")
    assert (lst.kind, lst.postback) == ("postback", "RETURN_ITEM")
    (tbtn,) = wa_parse("button.json")
    assert (tbtn.kind, tbtn.postback, tbtn.raw_type) == ("postback", "TALK_TO_AGENT", "button")


def test_whatsapp_unsupported_kept() -> None:
    (ev,) = wa_parse("unsupported.json")
    assert ev.kind == "unsupported" and ev.raw_type == "unsupported" and ev.event_key == "wamid.FAKEUNSUP01"


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("status_sent.json", "delivery", "sent"),
        ("status_delivered.json", "delivery", "delivered"),
        ("status_read.json", "read", "read"),
    ],
)
def test_whatsapp_statuses(name: str, kind: str, status: str) -> None:
    (ev,) = wa_parse(name)
    assert ev.kind == kind and ev.status == status
    assert ev.event_key == f"wamid.FAKEOUT01:{status}"
    assert ev.related_message_ids == ["wamid.FAKEOUT01"]
    assert ev.external_user_id == "15551230001"


def test_whatsapp_batch_with_several_messages_and_statuses() -> None:
    payload = sample_json("whatsapp", "text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    second = dict(value["messages"][0], id="wamid.FAKETEXT02", text={"body": "hello?"})
    value["messages"].append(second)
    value["statuses"] = sample_json("whatsapp", "status_read.json")["entry"][0]["changes"][0]["value"][
        "statuses"
    ]
    body = json.dumps(payload).encode()
    events = WA.parse(meta_request(body, WA_SECRET), SECRETS)
    assert [e.event_key for e in events] == ["wamid.FAKETEXT01", "wamid.FAKETEXT02", "wamid.FAKEOUT01:read"]


def test_meta_signature_rejections_happen_before_parsing() -> None:
    body = sample("whatsapp", "text.json")
    good = meta_request(body, WA_SECRET)
    # tampered body
    tampered = WebhookRequest(headers=dict(good.headers), body=body.replace(b"order", b"ORDER"))
    with pytest.raises(SignatureError):
        WA.verify(tampered, SECRETS)
    # wrong secret
    with pytest.raises(SignatureError):
        WA.verify(meta_request(body, "other-secret"), SECRETS)
    # missing header → 401
    with pytest.raises(SignatureError) as exc:
        WA.verify(WebhookRequest(body=body), SECRETS)
    assert exc.value.status == 401
    # ordering: garbage body with a bad signature → SignatureError, not MalformedPayload
    with pytest.raises(SignatureError):
        MS.verify(meta_request(b"{not json", "other-secret"), SECRETS)
    # header name is case-insensitive
    lower = WebhookRequest(headers={"x-hub-signature-256": good.header("X-Hub-Signature-256")}, body=body)
    WA.verify(lower, SECRETS)


def test_meta_valid_signature_malformed_body() -> None:
    for body in (
        b"{not json",
        b"[]",
        b'{"object":"page"}',
        b'{"object":"page","entry":[{"messaging":[{}]}]}',
    ):
        req = meta_request(body, MS_SECRET)
        MS.verify(req, SECRETS)
        with pytest.raises(MalformedPayload):
            MS.parse(req, SECRETS)
    req = meta_request(b'{"object":"whatsapp_business_account","entry":"x"}', WA_SECRET)
    WA.verify(req, SECRETS)
    with pytest.raises(MalformedPayload):
        WA.parse(req, SECRETS)


@pytest.mark.parametrize(("adapter", "token"), [(WA, "fake_wa_verify"), (MS, "fake_ms_verify")])
def test_meta_handshake(adapter, token: str) -> None:
    q = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
    assert adapter.handshake(WebhookRequest(method="GET", query=q), SECRETS) == (200, "1158201444")
    bad = {**q, "hub.verify_token": "wrong"}
    assert adapter.handshake(WebhookRequest(method="GET", query=bad), SECRETS)[0] == 403
    assert adapter.handshake(WebhookRequest(method="GET", query={**q, "hub.mode": "x"}), SECRETS)[0] == 400


# --- WhatsApp outbound --------------------------------------------------------------------------


def test_whatsapp_prepare_send_text() -> None:
    msg = OutboundMessage(
        channel="whatsapp",
        recipient_id="15551230001",
        text="Hello",
        reply_context={"phone_number_id": "1001"},
    )
    (call,) = WA.prepare_send(msg, SECRETS)
    assert call.url == "https://graph.facebook.com/v21.0/1001/messages"
    assert call.headers["Authorization"] == "Bearer FAKE_WA_ACCESS_TOKEN"
    assert call.json_body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "15551230001",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello"},
    }


def test_whatsapp_prepare_send_buttons_template_media() -> None:
    ctx = {"phone_number_id": "1001"}
    qr = [QuickReply(title=f"Option {i}", payload=f"P{i}") for i in range(3)]
    msg = OutboundMessage(
        channel="whatsapp", recipient_id="1555", text="Pick one", quick_replies=qr, reply_context=ctx
    )
    (call,) = WA.prepare_send(msg, SECRETS)
    interactive = call.json_body["interactive"]
    assert call.json_body["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["body"] == {"text": "Pick one"}
    assert interactive["action"]["buttons"][0] == {
        "type": "reply",
        "reply": {"id": "P0", "title": "Option 0"},
    }
    tpl = OutboundMessage(
        channel="whatsapp",
        recipient_id="1555",
        template=Template(name="order_update", language="en_US", params=["FAKE-1001", "shipped"]),
        reply_context=ctx,
    )
    (call,) = WA.prepare_send(tpl, SECRETS)
    assert call.json_body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "FAKE-1001"}, {"type": "text", "text": "shipped"}],
            }
        ],
    }
    doc = OutboundMessage.model_validate(
        {
            "channel": "whatsapp",
            "recipient_id": "1555",
            "text": "your invoice",
            "media": {"type": "file", "url": "https://files.example.invalid/i.pdf", "file_name": "i.pdf"},
            "reply_context": ctx,
        }
    )
    (call,) = WA.prepare_send(doc, SECRETS)
    assert call.json_body["type"] == "document"
    assert call.json_body["document"] == {
        "link": "https://files.example.invalid/i.pdf",
        "caption": "your invoice",
        "filename": "i.pdf",
    }


def test_whatsapp_needs_phone_number_id() -> None:
    with pytest.raises(ConfigurationError):
        WA.prepare_send(OutboundMessage(channel="whatsapp", recipient_id="1", text="x"), SECRETS)
    (call,) = WA.prepare_send(
        OutboundMessage(channel="whatsapp", recipient_id="1", text="x"),
        {**SECRETS, "WHATSAPP_PHONE_NUMBER_ID": "9"},
    )
    assert call.url.endswith("/9/messages")


# --- Messenger ----------------------------------------------------------------------------------


def test_messenger_text_and_attachment() -> None:
    (ev,) = ms_parse("text.json")
    assert ev.kind == "text" and ev.text == "Hello, I need help with a refund"
    assert ev.event_key == "m_FAKE_TEXT_01" and ev.external_user_id == "7000000000000001"
    assert ev.platform_ts == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert ev.reply_context == {"page_id": "8000000000000001"}
    (img,) = ms_parse("attachment_image.json")
    assert img.kind == "image" and img.media[0].url == "https://scontent.example.invalid/fake/image.jpg"


def test_messenger_quick_reply_postback_read_delivery() -> None:
    (qr,) = ms_parse("quick_reply.json")
    assert (qr.kind, qr.postback, qr.text, qr.event_key) == ("postback", "CONFIRM_YES", "Yes", "m_FAKE_QR_01")
    (pb,) = ms_parse("postback.json")
    assert (pb.kind, pb.postback, pb.event_key) == ("postback", "GET_STARTED", "m_FAKE_PB_01")
    (rd,) = ms_parse("read.json")
    assert rd.kind == "read" and rd.event_key == "read:7000000000000001:1700000000000"
    (dl,) = ms_parse("delivery.json")
    assert dl.kind == "delivery" and dl.related_message_ids == ["m_FAKE_OUT_01"]


def test_messenger_unknown_item_and_echo_kept() -> None:
    payload = sample_json("messenger", "text.json")
    item = payload["entry"][0]["messaging"][0]
    payload["entry"][0]["messaging"] = [
        {
            "sender": item["sender"],
            "recipient": item["recipient"],
            "timestamp": 1,
            "reaction": {"emoji": "x"},
        },
        {
            **item,
            "message": {"mid": "m_ECHO", "is_echo": True, "text": "our reply"},
            "sender": item["recipient"],
            "recipient": item["sender"],
        },
    ]
    events = MS.parse(meta_request(json.dumps(payload).encode(), MS_SECRET), SECRETS)
    assert [(e.kind, e.raw_type) for e in events] == [
        ("unsupported", "reaction"),
        ("unsupported", "message:echo"),
    ]
    assert events[1].external_user_id == "7000000000000001"


def test_messenger_prepare_send() -> None:
    msg = OutboundMessage(
        channel="messenger",
        recipient_id="7000000000000001",
        text="How can we help?",
        quick_replies=[QuickReply(title="Refund", payload="REFUND")],
    )
    (call,) = MS.prepare_send(msg, SECRETS)
    assert call.url == "https://graph.facebook.com/v21.0/me/messages?access_token=FAKE_PAGE_TOKEN"
    assert call.json_body == {
        "recipient": {"id": "7000000000000001"},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "How can we help?",
            "quick_replies": [{"content_type": "text", "title": "Refund", "payload": "REFUND"}],
        },
    }
    tagged = msg.model_copy(update={"message_tag": "HUMAN_AGENT", "media": None})
    (call,) = MS.prepare_send(tagged, SECRETS)
    assert call.json_body["messaging_type"] == "MESSAGE_TAG" and call.json_body["tag"] == "HUMAN_AGENT"
    with_media = OutboundMessage.model_validate(
        {
            "channel": "messenger",
            "recipient_id": "7",
            "text": "see photo",
            "media": {"type": "image", "url": "https://files.example.invalid/p.jpg"},
        }
    )
    calls = MS.prepare_send(with_media, SECRETS)
    assert [c.json_body["message"] for c in calls] == [
        {
            "attachment": {
                "type": "image",
                "payload": {"url": "https://files.example.invalid/p.jpg", "is_reusable": True},
            }
        },
        {"text": "see photo"},
    ]
    with pytest.raises(PolicyViolation):
        MS.prepare_send(
            OutboundMessage(channel="messenger", recipient_id="7", template=Template(name="t")), SECRETS
        )
