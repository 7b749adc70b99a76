"""Class 3 (issue 13): WeChat signed URLs expire, safe mode is enforced once configured, XML is parsed
with a hardened parser that refuses other encodings, DTDs, entities and external parameter entities."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from chalicelib.channels import wechat
from chalicelib.channels.errors import MalformedPayload, SignatureError
from chalicelib.channels.models import WebhookRequest

from .support import SECRETS, sample

A = wechat.WeChatAdapter()
TOKEN, AES, APPID = SECRETS["WECHAT_TOKEN"], SECRETS["WECHAT_ENCODING_AES_KEY"], SECRETS["WECHAT_APP_ID"]
PLAIN_SECRETS = {k: v for k, v in SECRETS.items() if k != "WECHAT_ENCODING_AES_KEY"}  # no safe mode configured


def _query(timestamp: int, nonce: str = "n1", **extra: str) -> dict[str, str]:
    ts = str(timestamp)
    return {"signature": wechat.sha1_signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, **extra}


def _safe(plaintext: bytes, timestamp: int, nonce: str = "n1") -> WebhookRequest:
    body, query = wechat.encrypted_envelope(plaintext, token=TOKEN, encoding_aes_key=AES, app_id=APPID,
                                            timestamp=str(timestamp), nonce=nonce)
    return WebhookRequest(query=query, body=body)


@pytest.mark.parametrize("age", [-3600, -301, 301, 86400 * 365])
def test_a_captured_signed_url_stops_working_outside_the_window(age):
    now = int(time.time())
    plain = WebhookRequest(query=_query(now - age), body=sample("wechat", "text.xml"))
    with pytest.raises(SignatureError, match="window") as exc:
        A.verify(plain, PLAIN_SECRETS)
    assert exc.value.status == 403
    with pytest.raises(SignatureError, match="window"):
        A.verify(_safe(sample("wechat", "text.xml"), now - age), SECRETS)
    handshake = WebhookRequest(method="GET", query={**_query(now - age), "echostr": "e"})
    assert A.handshake(handshake, SECRETS)[0] == 403


def test_a_fresh_signed_url_works_in_both_modes():
    now = int(time.time())
    A.verify(WebhookRequest(query=_query(now - 60), body=sample("wechat", "text.xml")), PLAIN_SECRETS)
    A.verify(_safe(sample("wechat", "text.xml"), now + 60), SECRETS)
    assert A.handshake(WebhookRequest(method="GET", query={**_query(now), "echostr": "e"}), SECRETS) == (200, "e")


@pytest.mark.parametrize("encrypt_type", [None, "raw", "RAW", "none", ""])
def test_plaintext_is_refused_once_an_encoding_aes_key_is_configured(encrypt_type):
    query = _query(int(time.time()))
    if encrypt_type is not None:
        query["encrypt_type"] = encrypt_type
    request = WebhookRequest(query=query, body=sample("wechat", "text.xml"))
    with pytest.raises(SignatureError, match="safe mode") as exc:
        A.verify(request, SECRETS)
    assert exc.value.status == 403
    A.verify(request, PLAIN_SECRETS)  # without the key, plaintext mode is what the account uses


def test_the_replay_token_names_timestamp_and_nonce():
    now = int(time.time())
    assert A.replay_token(_safe(b"<xml/>", now, nonce="n9")) == f"{now}#n9"


_ENTITY_BOMB = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "AAAAAAAAAA">'
                '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><ToUserName>gh</ToUserName>'
                "<FromUserName>oX</FromUserName><CreateTime>1700000000</CreateTime><MsgType>text</MsgType>"
                "<Content>&b;</Content><MsgId>1</MsgId></xml>")
_EXTERNAL_PARAMETER = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY % ext SYSTEM '
                       '"http://127.0.0.1:9/evil.dtd"> %ext;]><xml><FromUserName>oX</FromUserName></xml>')


@pytest.mark.parametrize("body", [
    _ENTITY_BOMB.encode("utf-16"),
    _ENTITY_BOMB.encode("utf-16-le"),
    _ENTITY_BOMB.encode("utf-16-be"),
    _EXTERNAL_PARAMETER.encode("utf-16"),
    _ENTITY_BOMB.replace("UTF-16", "UTF-8").encode(),
    _EXTERNAL_PARAMETER.replace("UTF-16", "UTF-8").encode(),
    b'<?xml version="1.0" encoding="ISO-8859-1"?><xml><FromUserName>o\xe9</FromUserName></xml>',
    "<xml><Content>你好</Content></xml>".encode("gb18030"),
    b"<xml><Content>a\x00b</Content></xml>",
], ids=["utf16-bom", "utf16-le", "utf16-be", "utf16-external-parameter-entity", "utf8-entities",
        "utf8-external-parameter-entity", "latin1-declaration", "gb18030-bytes", "nul-byte"])
def test_xml_that_is_not_plain_utf8_without_dtd_is_refused(body):
    with pytest.raises(MalformedPayload):
        wechat.parse_xml(body)
    request = WebhookRequest(query=_query(int(time.time())), body=body)
    A.verify(request, PLAIN_SECRETS)  # the signature is fine: the body is what is refused
    with pytest.raises(MalformedPayload):
        A.parse(request, PLAIN_SECRETS)


def test_the_same_attacks_inside_a_safe_mode_envelope_are_refused():
    request = _safe(_ENTITY_BOMB.encode("utf-16"), int(time.time()))
    with pytest.raises(MalformedPayload):
        A.parse(request, SECRETS)


def test_utf8_with_declaration_or_bom_still_parses():
    xml = sample("wechat", "text.xml")
    for body in (b'<?xml version="1.0" encoding="utf-8"?>' + xml, b"\xef\xbb\xbf" + xml):
        assert wechat.parse_xml(body)["Content"] == "你好，我的订单还没到"


def test_the_sample_encrypted_message_verifies_at_its_own_time():
    from .support import sample_json

    query = sample_json("wechat", "encrypted_text.query.json")
    request = WebhookRequest(query=query, body=sample("wechat", "encrypted_text.xml"))
    sent_at = datetime.fromtimestamp(int(query["timestamp"]), UTC)
    A.verify(request, SECRETS, now=sent_at)
    with pytest.raises(SignatureError, match="window"):
        A.verify(request, SECRETS)
