"""WeChat adapter: signatures, XML parsing, AES safe mode, handshake and send shapes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from chalicelib.channels import wechat
from chalicelib.channels.errors import ConfigurationError, MalformedPayload, SignatureError
from chalicelib.channels.models import OutboundMessage, QuickReply, Template, WebhookRequest

from .support import SECRETS, sample, sample_json

A = wechat.WeChatAdapter()
TOKEN = SECRETS["WECHAT_TOKEN"]
AES = SECRETS["WECHAT_ENCODING_AES_KEY"]
APPID = SECRETS["WECHAT_APP_ID"]
# Plaintext mode is only accepted while no EncodingAESKey is configured (issue 13).
PLAIN = {k: v for k, v in SECRETS.items() if k != "WECHAT_ENCODING_AES_KEY"}


def signed_query(timestamp: str | None = None, nonce: str = "nonce42", token: str = TOKEN) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))  # signed URLs are fresh for 5 minutes
    return {
        "signature": wechat.sha1_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "oFAKEopenid000000000000001",
    }


def plain_request(body: bytes, **kw: str) -> WebhookRequest:
    return WebhookRequest(method="POST", query=signed_query(**kw), body=body)


def parse_one(name: str):
    req = plain_request(sample("wechat", name))
    A.verify(req, PLAIN)
    events = A.parse(req, PLAIN)
    assert len(events) == 1
    return events[0]


def test_text_message() -> None:
    ev = parse_one("text.xml")
    assert ev.channel == "wechat"
    assert ev.kind == "text" and ev.raw_type == "text"
    assert ev.text == "你好，我的订单还没到"
    assert ev.event_key == "24000000000000001"
    assert ev.dedup_key == "wechat:24000000000000001"
    assert ev.external_user_id == "oFAKEopenid000000000000001"
    assert ev.platform_ts == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert ev.reply_context["to_user_name"] == "gh_fake00000001"


@pytest.mark.parametrize(
    ("name", "kind", "media_id"),
    [
        ("image.xml", "image", "FAKE_MEDIA_ID_IMAGE_1"),
        ("voice.xml", "audio", "FAKE_MEDIA_ID_VOICE_1"),
        ("video.xml", "video", "FAKE_MEDIA_ID_VIDEO_1"),
    ],
)
def test_media_messages(name: str, kind: str, media_id: str) -> None:
    ev = parse_one(name)
    assert ev.kind == kind
    assert ev.media[0].media_id == media_id


def test_image_url_and_voice_recognition() -> None:
    assert parse_one("image.xml").media[0].url == "https://mmbiz.example.invalid/fake/pic.jpg"
    voice = parse_one("voice.xml")
    assert voice.text == "我要退货" and voice.media[0].mime_type == "audio/amr"


def test_location_and_link() -> None:
    loc = parse_one("location.xml")
    assert loc.kind == "location"
    assert loc.location is not None and loc.location.lat == pytest.approx(23.134521)
    assert loc.location.lon == pytest.approx(113.358803) and loc.location.label == "广州市天河区"
    link = parse_one("link.xml")
    assert link.kind == "text" and link.raw_type == "link"
    assert "https://example.invalid/orders/FAKE-1001" in (link.text or "")


def test_events_use_from_user_and_create_time_as_key() -> None:
    sub = parse_one("event_subscribe.xml")
    assert sub.kind == "follow" and sub.raw_type == "event:subscribe"
    assert sub.event_key == "oFAKEopenid000000000000001:1700000000"
    assert parse_one("event_unsubscribe.xml").kind == "unfollow"
    click = parse_one("event_click.xml")
    assert click.kind == "postback" and click.postback == "MENU_ORDER_STATUS"


def test_unknown_type_kept_as_unsupported() -> None:
    ev = parse_one("shortvideo_unsupported_type.xml")
    assert ev.kind == "unsupported" and ev.raw_type == "miniprogrampage"


def test_bad_signature_rejected_before_parsing() -> None:
    # body is not even XML: a bad signature must win over MalformedPayload
    req = WebhookRequest(query=signed_query(token="wrong-token"), body=b"<<<not xml")
    with pytest.raises(SignatureError):
        A.verify(req, PLAIN)
    req = WebhookRequest(query={}, body=sample("wechat", "text.xml"))
    with pytest.raises(SignatureError) as exc:
        A.verify(req, PLAIN)
    assert exc.value.status == 401
    tampered = dict(signed_query())
    tampered["timestamp"] = str(int(tampered["timestamp"]) + 1)
    with pytest.raises(SignatureError):
        A.verify(WebhookRequest(query=tampered, body=sample("wechat", "text.xml")), PLAIN)


def test_valid_signature_malformed_body() -> None:
    for body in (b"<<<not xml", b"<root><a>1</a></root>", b"<xml><MsgType>text</MsgType></xml>"):
        req = plain_request(body)
        A.verify(req, PLAIN)
        with pytest.raises(MalformedPayload):
            A.parse(req, PLAIN)


def test_doctype_and_entities_rejected() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<xml><Content>&lol2;</Content></xml>"
    )
    req = plain_request(bomb)
    A.verify(req, PLAIN)
    with pytest.raises(MalformedPayload, match="DOCTYPE"):
        A.parse(req, PLAIN)


def test_handshake() -> None:
    query = {**signed_query(), "echostr": "8238273829"}
    assert A.handshake(WebhookRequest(method="GET", query=query), SECRETS) == (200, "8238273829")
    bad = {**signed_query(token="nope"), "echostr": "8238273829"}
    assert A.handshake(WebhookRequest(method="GET", query=bad), SECRETS)[0] == 403
    assert A.handshake(WebhookRequest(method="GET", query=signed_query()), SECRETS)[0] == 400


# --- AES safe mode ------------------------------------------------------------------------------


def test_aes_round_trip_and_padding() -> None:
    for size in (0, 1, 11, 12, 100, 1000):
        xml = b"<xml>" + b"x" * size + b"</xml>"
        enc = wechat.encrypt(xml, AES, APPID)
        assert wechat.decrypt(enc, AES, APPID) == xml


def test_aes_appid_mismatch_rejected() -> None:
    enc = wechat.encrypt(b"<xml/>", AES, "wxSOMEONE_ELSE")
    with pytest.raises(SignatureError, match="appid"):
        wechat.decrypt(enc, AES, APPID)


def test_encrypted_sample_file_verifies_and_parses() -> None:
    query = sample_json("wechat", "encrypted_text.query.json")
    req = WebhookRequest(query=query, body=sample("wechat", "encrypted_text.xml"))
    A.verify(req, SECRETS, now=datetime.fromtimestamp(int(query["timestamp"]), UTC))  # a recorded request
    (ev,) = A.parse(req, SECRETS)
    assert ev.kind == "text" and ev.text == "你好，我的订单还没到" and ev.event_key == "24000000000000001"


def test_encrypted_envelope_rejections() -> None:
    body, query = wechat.encrypted_envelope(
        sample("wechat", "text.xml"),
        token=TOKEN,
        encoding_aes_key=AES,
        app_id=APPID,
        timestamp=str(int(time.time())),
        nonce="n",
    )
    A.verify(WebhookRequest(query=query, body=body), SECRETS)
    # tampered ciphertext: msg_signature no longer matches
    tampered = body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")
    with pytest.raises(SignatureError, match="msg_signature"):
        A.verify(WebhookRequest(query=query, body=tampered), SECRETS)
    # wrong appid configured
    with pytest.raises(SignatureError, match="appid"):
        A.verify(WebhookRequest(query=query, body=body), {**SECRETS, "WECHAT_APP_ID": "wxOTHER"})
    # missing msg_signature
    no_msg_sig = {k: v for k, v in query.items() if k != "msg_signature"}
    with pytest.raises(SignatureError):
        A.verify(WebhookRequest(query=no_msg_sig, body=body), SECRETS)


def test_bad_aes_key_is_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        wechat.encrypt(b"<xml/>", "short", APPID)


# --- sending ------------------------------------------------------------------------------------


def test_prepare_send_text() -> None:
    msg = OutboundMessage(channel="wechat", recipient_id="oFAKE1", text="您好")
    (call,) = A.prepare_send(msg, SECRETS, access_token="TOK")
    assert call.method == "POST"
    assert call.url == "https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=TOK"
    assert call.json_body == {"touser": "oFAKE1", "msgtype": "text", "text": {"content": "您好"}}
    assert "您好".encode() in (call.encoded_body() or b"")  # raw UTF-8, not \\u escapes
    assert "access_token=***" in call.redacted_url()


def test_prepare_send_menu_media_template() -> None:
    msg = OutboundMessage(
        channel="wechat",
        recipient_id="oFAKE1",
        text="满意吗?",
        quick_replies=[QuickReply(title="满意", payload="101"), QuickReply(title="不满意", payload="102")],
    )
    (call,) = A.prepare_send(msg, {**SECRETS, "WECHAT_API_BASE": "http://fake"}, access_token="T")
    assert call.url.startswith("http://fake/cgi-bin/message/custom/send")
    assert call.json_body["msgtype"] == "msgmenu"
    assert call.json_body["msgmenu"]["list"] == [
        {"id": "101", "content": "满意"},
        {"id": "102", "content": "不满意"},
    ]
    media = OutboundMessage.model_validate(
        {"channel": "wechat", "recipient_id": "o1", "media": {"type": "image", "media_id": "MID"}}
    )
    (call,) = A.prepare_send(media, SECRETS, access_token="T")
    assert call.json_body == {"touser": "o1", "msgtype": "image", "image": {"media_id": "MID"}}
    tpl = OutboundMessage(
        channel="wechat", recipient_id="o1", template=Template(name="TPL1", params={"thing1": "订单"})
    )
    (call,) = A.prepare_send(tpl, SECRETS, access_token="T")
    assert "/cgi-bin/message/template/send?access_token=T" in call.url
    assert call.json_body == {"touser": "o1", "template_id": "TPL1", "data": {"thing1": {"value": "订单"}}}
    assert json.loads(call.encoded_body() or b"") == call.json_body


def test_prepare_send_requires_token() -> None:
    with pytest.raises(ConfigurationError):
        A.prepare_send(OutboundMessage(channel="wechat", recipient_id="o", text="x"), SECRETS)
