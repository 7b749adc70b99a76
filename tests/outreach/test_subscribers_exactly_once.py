"""Issue 13, class 1, for outreach's `MessageStored` subscribers: a customer message whose effects record SQS
delivers again, or whose first attempt failed halfway, has each outreach effect once: the campaign reply
counted, follow-ups cancelled, the opt-out recorded and confirmed (and not answered by the bot), the
ticket-loop answer applied and thanked for, the contact index moved.

Faults are injected where AWS would produce them, on the app's own boto3 clients (`support.fail_once`);
the harness's effects queue hands a failed record back at once, as SQS does after the visibility timeout.
A redelivery of a record whose first delivery succeeded is the same record handed to `process_effects`
again with a higher receive count (beyond the FIFO queue's five-minute deduplication)."""

from __future__ import annotations

import json
import os
from typing import Any

from analytics_flow import stream_events
from social.social_support import user_of
from social.test_ticket_loop import _rest, _ticket_for
from support import fail_once

from .test_campaigns import SALE_TELEGRAM, _campaign, _run


def _key(params: dict[str, Any]) -> tuple[str, str]:
    key = params.get("Key") or params.get("Item") or {}
    return key.get("pk", {}).get("S", ""), key.get("sk", {}).get("S", "")


def _effects_of(social: Any, message_id: str) -> dict[str, Any]:
    """The effects record of `message_id` as Lambda got it the first time."""
    for batch in social.effects.batches:
        for record in batch["Records"]:
            if json.loads(record["body"])["message"]["message_id"] == message_id:
                return record
    raise AssertionError(f"no effects record for {message_id}")


def redeliver(social: Any, message_id: str) -> None:
    """SQS delivers the message's effects record once more (and the effects of what they post follow)."""
    record = json.loads(json.dumps(_effects_of(social, message_id)))
    record["attributes"]["ApproximateReceiveCount"] = "2"
    assert social.app.process_effects({"Records": [record]}, None) == {"batchItemFailures": []}
    social.effects.drain()


def _last_customer_message(social: Any, customer_id: str) -> Any:
    conversation_id = social.open_conversation(customer_id)
    return [m for m in social.messages(conversation_id) if m.sender.type == "customer"][-1]


def _pid(customer_id: str) -> str:
    from chalicelib.analytics.redact import pseudonymise

    return pseudonymise(customer_id, os.environ["PSEUDONYM_KEY"])


def _telegram_texts(social: Any, chat_id: str) -> list[str]:
    return [s["json"]["text"] for s in social.sends("telegram") if str(s["json"]["chat_id"]) == chat_id]


# -- Campaigns.on_message: the reply is counted once ------------------------------------------------


def test_a_campaign_reply_cut_short_is_counted_once_and_a_redelivery_counts_nothing(outreach):
    social, services = outreach.social, outreach.services
    user = user_of("telegram", 1)
    social.send_text("telegram", "Hello", user=user)
    customer_id = social.customer_of("telegram", user)
    outreach.template("spring_sale", **SALE_TELEGRAM)
    campaign_id = _campaign(outreach, "telegram")
    _run(outreach, campaign_id)
    # the reply is counted, then the customer's campaign mark cannot be dropped (throttled): SQS redelivers
    injected = fail_once(services.dynamodb, "DeleteItem", code="ProvisionedThroughputExceededException",
                         when=lambda p: _key(p)[1].startswith("OUTREACH#CAMPAIGN#"))

    social.send_text("telegram", "Which products?", user=user)
    reply = _last_customer_message(social, customer_id)
    redeliver(social, reply.message_id)

    assert injected["failed"] == 1
    assert services.campaigns.store.marks(customer_id) == []  # the redelivery finished what the first left
    assert services.campaigns.store.recipient(campaign_id, customer_id).replied_ms == reply.ts_ms
    _, report = outreach.rest("GET", f"/campaigns/{campaign_id}", outreach.admin)
    assert report["counts"]["replied"] == 1
    replied = [e for e in stream_events(social.session, "campaign_recipient") if e["campaign_state"] == "replied"]
    assert [(e["customer_pid"], e["conversation_id"]) for e in replied] == [(_pid(customer_id),
                                                                             reply.conversation_id)]
    assert [e["message_id"] for e in stream_events(social.session, "message_in")].count(reply.message_id) == 1


# -- FollowUps.on_message: every follow-up scheduled before the message is cancelled, once ----------


def test_followups_cancelled_halfway_are_all_cancelled_by_the_redelivery_and_never_sent(outreach):
    from chalicelib import ids
    from chalicelib.outreach.followups import FollowUp

    social, services = outreach.social, outreach.services
    user = user_of("telegram", 2)
    social.send_text("telegram", "My router keeps rebooting", user=user)
    customer_id = social.customer_of("telegram", user)
    store = services.followups.store
    now = ids.now_ms()
    for followup_id, kind in (("a-resolution", "resolution_check"), ("b-ticket", "ticket_pending")):
        assert store.schedule(FollowUp(followup_id=followup_id, customer_id=customer_id, kind=kind,
                                       due_ms=now + 60_000, created_ms=now - 1000))
    # the first follow-up is cancelled, the second's write is throttled: the record fails halfway
    injected = fail_once(services.dynamodb, "UpdateItem", code="ProvisionedThroughputExceededException",
                         when=lambda p: _key(p)[1].endswith("FOLLOWUP#b-ticket"))

    social.send_text("telegram", "It works again, thanks", user=user)
    redeliver(social, _last_customer_message(social, customer_id).message_id)

    assert injected["failed"] == 1
    followups = {f.followup_id: f for f in store.for_customer(customer_id)}
    assert {f.status for f in followups.values()} == {"cancelled"}
    assert {f.reason for f in followups.values()} == {"customer_wrote_first"}
    # due now: nothing goes out
    outreach.sqs.send_message(QueueUrl=outreach.queue_url("FOLLOWUP_QUEUE_NAME"), MessageBody=json.dumps(
        {"customer_id": customer_id, "followup_id": "a-resolution"}))
    outreach.drain_followups()
    outreach.drain_outbound()
    assert [t for t in _telegram_texts(social, user) if "solved" in t.lower()] == []


# -- OptOutListener.on_message: recorded once, confirmed once, never answered by the bot -----------


def _bot_messages_after(social: Any, message: Any) -> list[Any]:
    return [m for m in social.messages(message.conversation_id) if m.seq > message.seq and m.sender.type == "bot"]


def test_an_opt_out_whose_confirmation_failed_is_confirmed_once_by_the_redelivery(bot_enabled, outreach):
    social, services = outreach.social, outreach.services
    user = user_of("telegram", 3)
    social.send_text("telegram", "Hello", user=user)
    customer_id = social.customer_of("telegram", user)
    # recorded, then the confirmation's effects cannot be scheduled (SQS throttles): the record fails halfway
    injected = fail_once(services.sqs, "SendMessage", code="ThrottlingException",
                         when=lambda p: str(p.get("QueueUrl", "")).endswith("effects.fifo")
                         and "optout_confirmation" in str(p.get("MessageBody")))

    social.send_text("telegram", "STOP", user=user)
    stop = _last_customer_message(social, customer_id)
    redeliver(social, stop.message_id)
    outreach.drain_outbound()

    assert injected["failed"] == 1
    assert [o.keyword for o in services.opt_outs.opt_outs(customer_id)] == ["STOP"]
    confirmations = [m for m in social.messages(stop.conversation_id)
                     if (m.meta or {}).get("outreach") == "optout_confirmation"]
    assert len(confirmations) == 1
    assert _telegram_texts(social, user).count(confirmations[0].text) == 1  # sent to Telegram once
    assert _bot_messages_after(social, stop) == []  # "STOP" is not a question for the bot


def test_an_opt_out_whose_record_was_throttled_is_recorded_and_confirmed_by_the_retry(bot_enabled, outreach):
    social, services = outreach.social, outreach.services
    user = user_of("telegram", 4)
    social.send_text("telegram", "Hello", user=user)
    customer_id = social.customer_of("telegram", user)
    injected = fail_once(services.dynamodb, "PutItem", code="ProvisionedThroughputExceededException",
                         when=lambda p: _key(p)[1].startswith("OPTOUT#"))

    social.send_text("telegram", "退订", user=user)
    stop = _last_customer_message(social, customer_id)
    outreach.drain_outbound()

    assert injected["failed"] == 1
    assert [o.keyword for o in services.opt_outs.opt_outs(customer_id)] == ["退订"]
    confirmations = [m for m in social.messages(stop.conversation_id)
                     if (m.meta or {}).get("outreach") == "optout_confirmation"]
    assert len(confirmations) == 1 and _bot_messages_after(social, stop) == []
    assert services.marketing_gate.refusal(customer_id, "telegram", opted_in_only=False) == "opted_out"


# -- TicketLoop.on_message: the answer closes the ticket once, is thanked for once, counted once ----


def test_a_ticket_answer_cut_short_is_applied_thanked_and_counted_once(bot_enabled, outreach):
    social, services = outreach.social, outreach.services
    user, customer_id, _, ticket_id = _ticket_for(social, "I want a refund for order 1234")
    assert _rest(social, "PATCH", f"/tickets/{ticket_id}", {"status": "solved"})[0] == 200
    social.drain_outbound()
    # the ticket is closed, then the thank-you's effects cannot be scheduled: the record fails halfway
    injected = fail_once(services.sqs, "SendMessage", code="ThrottlingException",
                         when=lambda p: str(p.get("QueueUrl", "")).endswith("effects.fifo")
                         and "Thank you for confirming" in str(p.get("MessageBody")))

    social.send_text("whatsapp", "solved", user=user)
    answer = _last_customer_message(social, customer_id)
    redeliver(social, answer.message_id)
    social.drain_outbound()

    assert injected["failed"] == 1
    _, ticket = _rest(social, "GET", f"/tickets/{ticket_id}")
    assert ticket["status"] == "closed"
    assert [a["actor"] for a in ticket["audit"]].count(f"customer:{customer_id}") == 1
    thanks = [m for m in social.messages(answer.conversation_id) if "Thank you for confirming" in (m.text or "")]
    assert len(thanks) == 1
    sent = [s["json"] for s in social.sends("whatsapp") if s["json"].get("to") == user]
    assert len([s for s in sent if "Thank you for confirming" in json.dumps(s)]) == 1
    assert _bot_messages_after(social, answer) == []
    confirmed = [e for e in stream_events(social.session, "ticket_confirmation") if e["outcome"] == "confirmed"]
    assert [e["ticket_id"] for e in confirmed] == [ticket_id]


# -- ContactIndex.on_message: the last contact moves forward once, and a campaign finds the customer --


def test_a_contact_whose_index_write_was_throttled_is_indexed_by_the_retry(outreach):
    social, services = outreach.social, outreach.services
    user = user_of("telegram", 5)
    injected = fail_once(services.dynamodb, "UpdateItem", code="ProvisionedThroughputExceededException",
                         when=lambda p: _key(p)[1].startswith("CONTACT#"))

    social.send_text("telegram", "Hello", user=user)
    customer_id = social.customer_of("telegram", user)
    hello = _last_customer_message(social, customer_id)
    redeliver(social, hello.message_id)

    assert injected["failed"] == 1
    contact = services.contact_index.get(customer_id, "telegram")
    assert contact is not None and contact.last_contact_ms == hello.ts_ms
    outreach.template("spring_sale", **SALE_TELEGRAM)
    report = _run(outreach, _campaign(outreach, "telegram"))
    assert report["counts"]["sent"] == 1 and _telegram_texts(social, user)[-1].startswith("Spring sale")
