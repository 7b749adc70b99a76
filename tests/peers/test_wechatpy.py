"""wechatpy as WeChat's independent peer: what its WeChatCrypto encrypts we accept, what we encrypt it
decrypts, and our customer-service sends are the JSON its client would post (issue 13)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import pytest
from channels.support import SECRETS, sample
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

from chalicelib.channels import wechat
from chalicelib.channels.errors import SignatureError
from chalicelib.channels.models import OutboundMessage, QuickReply, Template, WebhookRequest

TOKEN, AES, APPID = SECRETS["WECHAT_TOKEN"], SECRETS["WECHAT_ENCODING_AES_KEY"], SECRETS["WECHAT_APP_ID"]
A = wechat.WeChatAdapter()
CRYPTO = WeChatCrypto(TOKEN, AES, APPID)


def _inbound_from_wechatpy(plain_xml: str, nonce: str = "1234567890") -> WebhookRequest:
    """A safe-mode POST as WeChat sends it, with the Encrypt and msg_signature wechatpy computes."""
    timestamp = str(int(time.time()))
    encrypted = ET.fromstring(CRYPTO.encrypt_message(plain_xml, nonce, timestamp))
    encrypt, msg_signature = encrypted.findtext("Encrypt"), encrypted.findtext("MsgSignature")
    body = f"<xml><ToUserName><![CDATA[gh_fake00000001]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    query = {"signature": wechat.sha1_signature(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "encrypt_type": "aes", "msg_signature": msg_signature, "openid": "oFAKEopenid000000000000001"}
    assert check_signature(TOKEN, query["signature"], timestamp, nonce) is None  # wechatpy agrees on the URL
    return WebhookRequest(query=query, body=body.encode())


@pytest.mark.parametrize("name", ["text.xml", "image.xml", "voice.xml", "location.xml", "link.xml",
                                  "event_subscribe.xml", "event_click.xml"])
def test_messages_wechatpy_encrypts_are_verified_and_parsed_like_its_own_parser_does(name):
    plain = sample("wechat", name).decode()
    request = _inbound_from_wechatpy(plain)
    A.verify(request, SECRETS)
    (event,) = A.parse(request, SECRETS)

    theirs = parse_message(plain)
    assert event.external_user_id == theirs.source
    assert int(event.platform_ts.timestamp()) == int(theirs.time)
    if theirs.type == "text":
        assert event.text == theirs.content
    if theirs.type == "event":
        assert event.raw_type.lower() == f"event:{theirs.event}".lower()
    else:
        assert event.event_key == str(theirs.id)


def test_a_wechatpy_envelope_with_a_wrong_signature_is_refused():
    request = _inbound_from_wechatpy(sample("wechat", "text.xml").decode())
    forged = WebhookRequest(query={**request.query, "msg_signature": "0" * 40}, body=request.body)
    with pytest.raises(SignatureError):
        A.verify(forged, SECRETS)


def test_what_we_encrypt_wechatpy_decrypts():
    plain = sample("wechat", "text.xml")
    timestamp, nonce = str(int(time.time())), "987654"
    body, query = wechat.encrypted_envelope(plain, token=TOKEN, encoding_aes_key=AES, app_id=APPID,
                                            timestamp=timestamp, nonce=nonce)
    decrypted = CRYPTO.decrypt_message(body.decode(), query["msg_signature"], timestamp, nonce)
    assert (decrypted.encode() if isinstance(decrypted, str) else decrypted) == plain


class _Recording(WeChatClient):
    """wechatpy's client with the HTTP call replaced by a record of what it would post."""

    def __init__(self) -> None:
        super().__init__(APPID, SECRETS["WECHAT_APP_SECRET"], access_token="TOKEN")
        self.posted: list[tuple[str, dict]] = []

    def _request(self, method, url_or_endpoint, **kwargs):  # type: ignore[no-untyped-def]
        data = kwargs.get("data")
        self.posted.append((url_or_endpoint, json.loads(data) if isinstance(data, str | bytes) else data))
        return {"errcode": 0, "errmsg": "ok"}


def _ours(message: OutboundMessage) -> tuple[str, dict]:
    (call,) = A.prepare_send(message, SECRETS, access_token="TOKEN")
    return call.url.split("/cgi-bin/", 1)[1].split("?", 1)[0], json.loads(call.encoded_body() or b"")


def test_our_customer_service_sends_are_what_wechatpy_posts():
    client = _Recording()
    client.message.send_text("oFAKE1", "您好，订单已发货")
    client.message.send_image("oFAKE1", "MEDIA_1")
    client.message.send_msg_menu("oFAKE1", {"head_content": "满意吗?", "list": [
        {"id": "101", "content": "满意"}, {"id": "102", "content": "不满意"}], "tail_content": ""})
    client.message.send_template("oFAKE1", "TPL1", {"thing1": {"value": "订单"}})
    ours = [
        _ours(OutboundMessage(channel="wechat", recipient_id="oFAKE1", text="您好，订单已发货")),
        _ours(OutboundMessage.model_validate({"channel": "wechat", "recipient_id": "oFAKE1",
                                              "media": {"type": "image", "media_id": "MEDIA_1"}})),
        _ours(OutboundMessage(channel="wechat", recipient_id="oFAKE1", text="满意吗?", quick_replies=[
            QuickReply(title="满意", payload="101"), QuickReply(title="不满意", payload="102")])),
        _ours(OutboundMessage(channel="wechat", recipient_id="oFAKE1",
                              template=Template(name="TPL1", params={"thing1": "订单"}))),
    ]
    theirs = [(endpoint.rsplit("cgi-bin/", 1)[-1], body) for endpoint, body in client.posted]
    assert [body for _, body in ours] == [body for _, body in theirs]
    assert [path for path, _ in ours] == [path for path, _ in theirs]
