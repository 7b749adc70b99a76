"""Class 4 (issue 13): signed but hostile bodies are stored safely or refused with nothing written.

A platform (or whoever holds its secret) may send a 900 KB text, a lone surrogate, JSON nested
thousands deep or a 5,000-digit number. Each gets 200 with the message stored (long texts capped,
the original kept in S3) or a clear 4xx, never a 500, and a refused message creates no customer,
identity or conversation. WebSocket frames nested deep get an error frame.
"""

from __future__ import annotations

import json

import pytest
from support import Lambda, customer_token

from local.webhook import signed, text_body

from .social_support import SECRETS, user_of


def _post(social, channel: str, body: bytes):
    headers, query = signed(channel, body, SECRETS)
    return social.post(channel, body, headers, query)


def _written(social) -> list[str]:
    items = social.session.client("dynamodb").scan(TableName="cs-platform-local-main")["Items"]
    return sorted(i["pk"]["S"] for i in items if i["pk"]["S"].startswith(("CONV#", "IDENTITY#", "DEDUP#", "CUST#")))


def _generic(text: str = "hello", **fields) -> dict:
    body = json.loads(text_body("generic", text, user=user_of("generic")))
    body.update(fields)
    return body


def test_a_900_kb_email_is_stored_capped_with_the_original_in_s3(social):
    from chalicelib import services as composition
    from chalicelib.webhooks.limits import MAX_INBOUND_TEXT_CHARS

    text = ("Dear support, " + "my parcel has not arrived. " * 40_000)[:900_000]
    body = _generic(text)
    response = _post(social, "generic", json.dumps(body).encode())

    assert response.status_code == 200, response.body
    [message] = social.messages(social.open_conversation(social.customer_of("generic", body["from"]["id"])))
    assert message.text == text[:MAX_INBOUND_TEXT_CHARS]
    original = message.meta["original_text"]
    assert original["chars"] == len(text)
    obj = social.session.client("s3").get_object(Bucket=composition.services().bucket_name, Key=original["s3_key"])
    assert obj["Body"].read().decode("utf-8") == text


def test_a_retried_long_email_keeps_one_original_and_one_message(social):
    body = json.dumps(_generic("x" * 500_000)).encode()
    first, again = _post(social, "generic", body), _post(social, "generic", body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json_body["duplicates"] == 1


def test_a_lone_surrogate_in_the_text_is_stored_as_a_replacement_character(social):
    raw = json.dumps(_generic("broken emoji: \\ud83d end")).replace("\\\\ud83d", "\\ud83d").encode()
    response = _post(social, "generic", raw)

    assert response.status_code == 200, response.body
    sender = json.loads(raw)["from"]["id"]
    [message] = social.messages(social.open_conversation(social.customer_of("generic", sender)))
    assert message.text == "broken emoji: \ufffd end"


def test_a_lone_surrogate_in_an_id_is_refused_and_nothing_is_written(social):
    raw = json.dumps(_generic()).replace('"id": "crm-', '"id": "\\udc00crm-', 1).encode()
    assert b"\\udc00" in raw
    response = _post(social, "generic", raw)
    assert response.status_code == 400 and response.json_body["code"] == "malformed_payload"
    assert _written(social) == []


@pytest.mark.parametrize("channel", ["generic", "telegram", "line", "whatsapp", "messenger"])
def test_json_nested_thousands_deep_is_refused_and_nothing_is_written(social, channel):
    raw = b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = _post(social, channel, raw)
    assert response.status_code == 400, response.body
    assert response.json_body["code"] == "malformed_payload"
    assert _written(social) == []


@pytest.mark.parametrize("where", ["attachment size", "telegram update_id"])
def test_a_5000_digit_integer_is_refused_and_nothing_is_written(social, where):
    digits = "9" * 5000
    if where == "telegram update_id":
        body = json.loads(text_body("telegram", "hi"))
        raw = json.dumps(body).replace(f'"update_id": {body["update_id"]}', f'"update_id": {digits}').encode()
        channel = "telegram"
    else:
        body = _generic(attachments=[{"url": "https://example.invalid/a.pdf", "size": 1}])
        raw = json.dumps(body).replace('"size": 1', f'"size": {digits}').encode()
        channel = "generic"
    assert digits.encode() in raw
    response = _post(social, channel, raw)
    assert response.status_code == 400, response.body
    assert _written(social) == []


@pytest.mark.parametrize("fields", [
    {"context": {f"k{i}": "v" * 10_000 for i in range(60)}},
    {"from": {"id": "crm-" + "x" * 3000}},
    {"id": "evt_" + "x" * 3000},
    {"attachments": [{"url": "https://example.invalid/a", "size": "big"}]},
    {"type": "location", "location": {"lat": 1e999, "lon": 0}},
    {"attachments": [{"url": f"https://example.invalid/{i}"} for i in range(5000)]},
])
def test_oversized_or_invalid_fields_are_refused_and_nothing_is_written(social, fields):
    body = _generic(**fields)
    raw = json.dumps(body).replace("Infinity", "1e999").encode()
    response = _post(social, "generic", raw)
    assert response.status_code == 400, response.body
    assert response.json_body["code"] == "malformed_payload"
    assert _written(social) == []


def test_a_websocket_frame_nested_deep_gets_an_error_frame(social, management_api):
    lam = Lambda(social.app)
    assert lam.connect("deep=", customer_token("deep-1"))["statusCode"] == 200
    lam.send("deep=", '{"action": "sendMessage", "x": ' + "[" * 5000 + "]" * 5000 + "}")
    lam.send("deep=", '{"action": "sendMessage", "client_msg_id": "n1", "text": "' + "9" * 10 + '", "n": '
             + "9" * 5000 + "}")
    frames = management_api.frames["deep="]
    assert [f["type"] for f in frames] == ["error", "error"]
    assert frames[0]["code"] == "invalid_json"


def test_a_websocket_text_with_a_lone_surrogate_is_stored_replaced(social, management_api):
    lam = Lambda(social.app)
    assert lam.connect("sur=", customer_token("sur-1"))["statusCode"] == 200
    lam.send("sur=", '{"action": "sendMessage", "client_msg_id": "s1", "text": "half \\ud83d"}')
    [ack] = management_api.of_type("sur=", "ack")
    message = social.messages(ack["conversation_id"])[0]
    assert message.text == "half \ufffd"
