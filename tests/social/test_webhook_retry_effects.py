"""Issue 13, class 1, on a webhook: when the first delivery fails after the message was stored, the
platform's retry is answered 200 and the message's effects happen then, once."""

from __future__ import annotations

import pytest
from support import Lambda, customer_token, fail_once

from chalicelib import services as composition

from .social_support import user_of


@pytest.mark.parametrize("channel", ["telegram", "generic"])
def test_the_platforms_retry_gets_the_effects_the_first_delivery_lost(social, management_api, channel):
    user = user_of(channel)
    social.send_text(channel, "hello", user=user)  # the customer exists, with an app device online
    customer_id = social.customer_of(channel, user)
    lam = Lambda(social.app)
    assert lam.connect("app-1", customer_token(customer_id))["statusCode"] == 200
    injected = fail_once(composition.services().sqs, "SendMessage", code="ServiceUnavailable",
                         when=lambda params: str(params.get("QueueUrl", "")).endswith("effects.fifo"))

    [first, retry] = social.send_text(channel, "where is my parcel?", user=user, event_id="evt-1", repeat=2)

    assert injected["failed"] == 1
    assert first.status_code >= 500 and retry.status_code == 200  # the platform retries a failed delivery
    conversation_id = social.open_conversation(customer_id)
    texts = [m.text for m in social.messages(conversation_id) if m.sender.type == "customer"]
    assert texts.count("where is my parcel?") == 1  # stored once
    pushed = [f["message"]["text"] for f in management_api.of_type("app-1", "message")]
    assert pushed.count("where is my parcel?") == 1  # the app device hears of it once, on the retry
