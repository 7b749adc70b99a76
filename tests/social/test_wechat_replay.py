"""Class 3 (issue 13), through the webhook route: safe mode enforced, stale URLs and nonce replays refused."""

from __future__ import annotations

import time

from local.webhook import signed, text_body

from .social_support import SECRETS, user_of


def _envelope(plain: bytes, timestamp: int, nonce: str) -> tuple[bytes, dict[str, str]]:
    from chalicelib.channels import wechat

    return wechat.encrypted_envelope(plain, token=SECRETS["WECHAT_TOKEN"],
                                     encoding_aes_key=SECRETS["WECHAT_ENCODING_AES_KEY"],
                                     app_id=SECRETS["WECHAT_APP_ID"], timestamp=str(timestamp), nonce=nonce)


def _customer_messages(social, user: str) -> list:
    from chalicelib import services as composition

    identity = composition.services().identity_store.get("wechat", user)
    if identity is None:
        return []
    conversation_id = composition.services().conversation_store.open_conversation_id(identity.customer_id)
    return social.messages(conversation_id) if conversation_id else []


def test_plaintext_is_refused_when_safe_mode_is_configured(social):
    user = user_of("wechat")
    body = text_body("wechat", "明文消息", user=user)
    headers, query = signed("wechat", body, {k: v for k, v in SECRETS.items() if k != "WECHAT_ENCODING_AES_KEY"})
    for encrypt_type in (None, "raw"):
        q = dict(query, **({"encrypt_type": encrypt_type} if encrypt_type else {}))
        response = social.post("wechat", body, headers, q)
        assert response.status_code == 403 and "safe mode" in response.json_body["message"]
    assert _customer_messages(social, user) == []


def test_a_stale_signed_request_is_refused(social):
    user = user_of("wechat")
    body, query = _envelope(text_body("wechat", "旧消息", user=user), int(time.time()) - 3600, "old-nonce")
    response = social.post("wechat", body, {"Content-Type": "text/xml"}, query)
    assert response.status_code == 403 and "window" in response.json_body["message"]
    assert _customer_messages(social, user) == []


def test_a_nonce_is_not_accepted_twice_for_different_content(social):
    user = user_of("wechat")
    now = int(time.time())
    first_body, first_query = _envelope(text_body("wechat", "第一条", user=user, now=now), now, "nonce-7")
    assert social.post("wechat", first_body, {"Content-Type": "text/xml"}, first_query).status_code == 200

    # Someone who holds the token re-signs other content under the same timestamp and nonce.
    other, other_query = _envelope(text_body("wechat", "伪造的", user=user, now=now + 1), now, "nonce-7")
    response = social.post("wechat", other, {"Content-Type": "text/xml"}, other_query)
    assert response.status_code == 403 and response.json_body["message"] == "nonce already used"
    assert [m.text for m in _customer_messages(social, user)] == ["第一条"]


def test_the_platforms_identical_retry_is_answered_success_and_stored_once(social):
    user = user_of("wechat")
    now = int(time.time())
    body, query = _envelope(text_body("wechat", "重试", user=user, now=now), now, "nonce-8")
    answers = [social.post("wechat", body, {"Content-Type": "text/xml"}, query) for _ in range(3)]
    assert [(a.status_code, a.body) for a in answers] == [(200, b"success")] * 3
    assert [m.text for m in _customer_messages(social, user)] == ["重试"]


def test_without_safe_mode_a_captured_url_cannot_carry_another_body(social, monkeypatch):
    monkeypatch.delenv("WECHAT_ENCODING_AES_KEY")
    user = user_of("wechat")
    now = int(time.time())
    body = text_body("wechat", "真的", user=user, now=now)
    headers, query = signed("wechat", body, SECRETS, now=now, nonce="plain-nonce")
    assert social.post("wechat", body, headers, query).status_code == 200
    forged = text_body("wechat", "假的", user=user, now=now + 5)
    response = social.post("wechat", forged, headers, query)
    assert response.status_code == 403
    assert [m.text for m in _customer_messages(social, user)] == ["真的"]
