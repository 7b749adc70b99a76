"""pywa as WhatsApp's independent peer: Meta's signature as pywa validates it, and WhatsApp payloads with
and without the newer business-scoped `user_id` (a user with a username has no phone number) (issue 13)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

import pytest
from channels.support import SECRETS, sample_json
from pywa import WhatsApp
from pywa.types import Message
from pywa.utils import webhook_updates_validator

from chalicelib.channels.errors import SignatureError
from chalicelib.channels.models import WebhookRequest
from chalicelib.channels.whatsapp import WhatsAppAdapter

APP_SECRET = SECRETS["WHATSAPP_APP_SECRET"]
A = WhatsAppAdapter()
BSUID = "US.13491208655302741918"
PYWA = WhatsApp(phone_id="100000000000001", token="FAKE", server=None)


def _header(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _variant(kind: str) -> dict:
    """The text sample as WhatsApp sends it: `legacy` (no user_id), `both` (wa_id and user_id), `username`
    (a user who chose a username: user_id only, no phone number anywhere)."""
    update = copy.deepcopy(sample_json("whatsapp", "text.json"))
    value = update["entry"][0]["changes"][0]["value"]
    contact, message = value["contacts"][0], value["messages"][0]
    if kind in ("both", "username"):
        contact["user_id"] = BSUID
        message["from_user_id"] = BSUID
    if kind == "username":
        contact.pop("wa_id")
        contact["profile"]["username"] = "ana.fake"
        message.pop("from")
    return update


def test_what_pywa_validates_as_meta_signed_we_accept_and_what_it_refuses_we_refuse():
    body = json.dumps(_variant("both")).encode()
    good = _header(body)
    assert webhook_updates_validator(APP_SECRET, body, good)
    A.verify(WebhookRequest(headers={"X-Hub-Signature-256": good}, body=body), SECRETS)
    for header, payload in ((_header(body, APP_SECRET + "x"), body), (good, body.replace(b"Ana", b"Ann"))):
        assert not webhook_updates_validator(APP_SECRET, payload, header)
        with pytest.raises(SignatureError):
            A.verify(WebhookRequest(headers={"X-Hub-Signature-256": header}, body=payload), SECRETS)


@pytest.mark.parametrize("kind", ["legacy", "both", "username"])
def test_payloads_with_and_without_user_id_are_accepted_as_pywa_reads_them(kind):
    update = _variant(kind)
    body = json.dumps(update).encode()
    request = WebhookRequest(headers={"X-Hub-Signature-256": _header(body)}, body=body)
    A.verify(request, SECRETS)
    (event,) = A.parse(request, SECRETS)

    assert event.kind == "text" and event.text == "Hi, where is my order?"
    assert event.event_key == "wamid.FAKETEXT01" and event.profile_name == "Ana Fake"
    if kind != "legacy":  # pywa needs the business-scoped id; legacy payloads predate it
        theirs = Message.from_update(PYWA, update)
        assert theirs.id == event.event_key and theirs.text == event.text
        assert theirs.from_user.bsuid == BSUID and theirs.from_user.wa_id == (None if kind == "username" else
                                                                           "15551230001")
    if kind == "username":
        assert event.external_user_id == BSUID and event.phone is None  # no phone number to reply to
    else:
        assert event.external_user_id == "15551230001" and event.phone == "15551230001"  # existing identities


def test_a_message_with_neither_phone_nor_user_id_is_refused():
    update = _variant("username")
    value = update["entry"][0]["changes"][0]["value"]
    value["messages"][0].pop("from_user_id")
    value["contacts"][0].pop("user_id")
    body = json.dumps(update).encode()
    request = WebhookRequest(headers={"X-Hub-Signature-256": _header(body)}, body=body)
    from chalicelib.channels.errors import MalformedPayload

    with pytest.raises(MalformedPayload):
        A.parse(request, SECRETS)
