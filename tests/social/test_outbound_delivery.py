"""Outbound delivery: retries with backoff, exactly one send, dead-letters with the reason, windows."""

from __future__ import annotations

import time

from .social_support import user_of


def _conversation(social, channel, text="Hello", **kw):
    user = user_of(channel)
    social.send_text(channel, text, user=user, **kw)
    customer_id = social.customer_of(channel, user)
    return user, customer_id, social.open_conversation(customer_id)


def test_flaky_platform_still_gets_the_reply_exactly_once(social):
    _, _, conversation_id = _conversation(social, "whatsapp")
    social.fake.fail("/messages", 429, times=1)
    social.fake.fail("/messages", 500, times=2)
    reply = social.agent_reply(conversation_id, "On its way")
    results = social.drain_outbound()

    assert [len(r["batchItemFailures"]) for r in results] == [1, 1, 1, 0]
    attempts = social.sends("whatsapp")
    assert len(attempts) == 4  # three refused by the platform, one accepted
    delivery = social.delivery(reply)
    assert delivery["status"] == "sent" and delivery["attempts"] == 4
    assert delivery["platform_ids"] and delivery["platform_ids"][0].startswith("wamid.")
    assert social.dlq() == []


def test_flaky_telegram_and_wechat_token_expiry(social):
    _, _, telegram_conversation = _conversation(social, "telegram")
    social.fake.fail("/sendMessage", 500, times=1)
    social.agent_reply(telegram_conversation, "Hi from Telegram")
    _, _, wechat_conversation = _conversation(social, "wechat")
    social.agent_reply(wechat_conversation, "Hi from WeChat")
    social.drain_outbound()
    social.fake.expire_wechat_tokens()  # the cached token is refused once, refreshed, and the send retried
    social.agent_reply(wechat_conversation, "Second WeChat reply")
    social.drain_outbound()

    accepted = [r for r in social.sends("telegram")]
    assert len(accepted) == 2 and accepted[-1]["json"]["text"] == "Hi from Telegram"
    texts = [r["json"]["text"]["content"] for r in social.sends("wechat")]
    assert texts.count("Hi from WeChat") == 1 and texts.count("Second WeChat reply") == 2  # 40001, then sent


def test_redelivered_job_does_not_send_twice(social):
    _, _, conversation_id = _conversation(social, "line")
    social.agent_reply(conversation_id, "Once only")
    messages = social.sqs.receive_message(QueueUrl=social.queue_url, MaxNumberOfMessages=1,
                                          AttributeNames=["All"])["Messages"]
    event = {"Records": [social.record(messages[0])]}
    assert social.app.send_outbound(event, None) == {"batchItemFailures": []}
    assert social.app.send_outbound(event, None) == {"batchItemFailures": []}  # SQS delivered it again
    assert len(social.sends("line")) == 1


def test_permanently_failing_platform_dead_letters_with_the_reason(social):
    _, _, conversation_id = _conversation(social, "messenger")
    social.fake.fail("/me/messages", 400, times=1, body={"error": {"message": "(#100) No matching user found",
                                                                   "type": "OAuthException", "code": 100}})
    reply = social.agent_reply(conversation_id, "Are you there?")
    results = social.drain_outbound()
    assert results == [{"batchItemFailures": []}]  # not retried: deleted from the queue, moved to the DLQ

    [dead] = social.dlq()
    assert dead["job"]["message_id"] == reply.message_id
    assert dead["error"]["http_status"] == 400 and dead["error"]["retryable"] is False
    assert "No matching user found" in str(dead["error"]["platform_error"])
    delivery = social.delivery(reply)
    assert delivery["status"] == "failed" and delivery["error"]["http_status"] == 400


def test_retryable_failure_on_the_last_attempt_dead_letters(social):
    _, _, conversation_id = _conversation(social, "generic")
    social.fake.fail("/generic/callback", 503, times=50)
    reply = social.agent_reply(conversation_id, "Still down?")
    results = social.drain_outbound()
    assert len(results) == 6 and not results[-1]["batchItemFailures"]
    assert len(social.sends("generic")) == 6
    [dead] = social.dlq()
    assert dead["attempts"] == 6 and dead["error"]["http_status"] == 503 and dead["error"]["retryable"] is True
    assert social.delivery(reply)["status"] == "failed"


def test_whatsapp_reply_outside_24_hours_is_refused_with_a_clear_reason(social):
    _, _, conversation_id = _conversation(social, "whatsapp", now=time.time() - 25 * 3600)
    reply = social.agent_reply(conversation_id, "Sorry for the wait")
    assert social.drain_outbound() == [{"batchItemFailures": []}]
    assert social.sends("whatsapp") == []
    delivery = social.delivery(reply)
    assert delivery["status"] == "refused"
    assert delivery["error"]["code"] == "outside_24h_window"
    assert "template" in delivery["error"]["message"]


def test_long_reply_is_split_and_quick_replies_ride_on_the_last_part(social):
    _, _, conversation_id = _conversation(social, "messenger")
    text = ("A sentence that repeats. " * 100).strip()  # 2,500 characters > Messenger's 2,000
    reply = social.agent_reply(conversation_id, text, quick_replies=[{"title": "Yes", "payload": "YES"}])
    social.drain_outbound()
    sends = social.sends("messenger")
    assert len(sends) == 2
    assert "quick_replies" not in sends[0]["json"]["message"]
    assert sends[1]["json"]["message"]["quick_replies"][0]["payload"] == "YES"
    assert social.delivery(reply)["parts"] == 2


def test_app_customers_and_internal_notes_are_not_sent_to_platforms(social):
    from chalicelib import services as composition
    from chalicelib.core.models import MessageDraft, Sender

    _, _, conversation_id = _conversation(social, "telegram")
    note = MessageDraft(sender=Sender(type="agent", id="a1"), channel="app", text="internal", visibility="internal")
    composition.services().conversations.post(conversation_id, note)
    assert social.drain_outbound() == []


def test_receipts_update_the_delivery_state(social):
    import json

    from local.webhook import signed

    from .social_support import SECRETS

    user, _, conversation_id = _conversation(social, "whatsapp")
    reply = social.agent_reply(conversation_id, "Delivered?")
    social.drain_outbound()
    wamid = social.delivery(reply)["platform_ids"][0]
    for state in ("delivered", "read", "delivered"):  # a late "delivered" does not undo "read"
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [{
                "id": wamid, "status": state, "timestamp": str(int(time.time())), "recipient_id": user}]}}]}]}
                          ).encode()
        headers, _ = signed("whatsapp", body, SECRETS)
        assert social.post("whatsapp", body, headers).status_code == 200
    assert social.delivery(reply)["status"] == "read"
    assert len(social.messages(conversation_id)) == 2  # receipts are not messages


def test_sample_outbound_event_is_a_valid_job_and_is_handled(social):
    from support import load_event

    from chalicelib.outbound.models import OutboundJob

    event = load_event("sqs/outbound.json")
    job = OutboundJob.model_validate_json(event["Records"][0]["body"])
    assert job.channel == "whatsapp" and job.quick_replies[0].payload == "TRACK"
    # Its customer wrote in 2023: outside the 24-hour window, refused without a platform call, not retried.
    event["Records"][0]["eventSourceARN"] = social.queue_arn
    assert social.app.send_outbound(event, None) == {"batchItemFailures": []}
    assert social.sends("whatsapp") == []


def test_a_job_that_is_not_a_job_goes_to_the_dlq(social):
    social.sqs.send_message(QueueUrl=social.queue_url, MessageBody='{"nope": 1}')
    assert social.drain_outbound() == [{"batchItemFailures": []}]
    [dead] = social.dlq()
    assert dead["error"]["code"] == "invalid_job" and dead["job"] == {"nope": 1}


def test_customer_who_moved_to_the_app_is_answered_in_the_app_only(social):
    from support import Lambda, customer_token

    user = user_of("telegram")
    social.send_text("telegram", "hi", user=user)
    customer_id = social.customer_of("telegram", user)
    conversation_id = social.open_conversation(customer_id)
    lam = Lambda(social.app)
    assert lam.connect("c-1", customer_token(customer_id))["statusCode"] == 200
    lam.send("c-1", {"action": "sendMessage", "client_msg_id": "x1", "text": "now in the app"})
    social.agent_reply(conversation_id, "answer")
    assert social.drain_outbound() == []
    social.send_text("telegram", "back on telegram", user=user)
    social.agent_reply(conversation_id, "answer 2")
    social.drain_outbound()
    assert [r["json"]["text"] for r in social.sends("telegram")] == ["answer 2"]


def test_records_not_started_in_time_go_back_without_a_send(social):
    from local.lambda_runtime import LambdaContext

    _, _, conversation_id = _conversation(social, "line")
    social.agent_reply(conversation_id, "later")
    messages = social.sqs.receive_message(QueueUrl=social.queue_url, AttributeNames=["All"])["Messages"]
    event = {"Records": [social.record(messages[0])]}
    almost_out_of_time = LambdaContext(function_name="send_outbound", timeout_seconds=5)
    result = social.app.send_outbound(event, almost_out_of_time)
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert social.sends("line") == []
    time.sleep(1.1)
    social.drain_outbound()
    assert len(social.sends("line")) == 1
