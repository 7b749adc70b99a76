"""Follow-ups: sent once, on time, not at all if the customer wrote first; opt-out keywords recorded."""

from __future__ import annotations

import pytest
from social.social_support import user_of
from support import load_event

DAY = 86_400


def _telegram_customer(outreach, text="My router keeps rebooting"):
    social = outreach.social
    user = user_of("telegram")
    social.send_text("telegram", text, user=user, now=outreach.clock.now if outreach.clock else None)
    customer_id = social.customer_of("telegram", user)
    return user, customer_id, social.open_conversation(customer_id)


def _resolve(outreach, customer_id, conversation_id):
    """What the desk publishes when an agent resolves the conversation (and closes it)."""
    from chalicelib import ids
    from chalicelib.core.events import ConversationResolved

    services = outreach.services
    services.bus.publish(ConversationResolved(conversation_id=conversation_id, customer_id=customer_id,
                                              channel="telegram", ts_ms=ids.now_ms(), resolved_by="agent",
                                              agent_id="amy", handle_seconds=60.0))
    services.conversations.close(conversation_id, "resolved")


def _deliver_now(outreach, customer_id):
    """SQS's delay has elapsed: the queued job (the same body) is delivered now."""
    url = outreach.queue_url("FOLLOWUP_QUEUE_NAME")
    outreach.sqs.purge_queue(QueueUrl=url)
    [followup] = outreach.services.followups.store.for_customer(customer_id)
    job = f'{{"customer_id": "{customer_id}", "followup_id": "{followup.followup_id}"}}'
    outreach.sqs.send_message(QueueUrl=url, MessageBody=job)
    return url, job


def _followup_texts(outreach):
    return [s["json"]["text"] for s in outreach.social.sends("telegram") if "solved" in s["json"]["text"]]


@pytest.fixture
def clock(outreach):
    return outreach.virtual_clock()


def test_followup_is_sent_once_and_on_time(outreach, clock, monkeypatch):
    monkeypatch.setenv("FOLLOWUP_RESOLUTION_DAYS", "3")
    _, customer_id, conversation_id = _telegram_customer(outreach)
    _resolve(outreach, customer_id, conversation_id)
    sweep = outreach.social.app.outreach_sweeps

    clock.advance(3 * DAY - 20 * 60)  # 20 minutes before it is due: beyond SQS's 15-minute horizon
    assert sweep(load_event("scheduled/minute.json"), None)["followups_queued"] == 0
    clock.advance(10 * 60)  # 10 minutes before: queued with its remaining delay
    assert sweep(load_event("scheduled/minute.json"), None)["followups_queued"] == 1
    assert sweep(load_event("scheduled/minute.json"), None)["followups_queued"] == 0  # nothing moves twice
    [followup] = outreach.services.followups.store.for_customer(customer_id)
    assert followup.status == "queued"

    url = outreach.queue_url("FOLLOWUP_QUEUE_NAME")
    attributes = outreach.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # it waits for its time
    url, job = _deliver_now(outreach, customer_id)
    clock.advance(10 * 60)  # due now
    outreach.drain_followups()
    outreach.sqs.send_message(QueueUrl=url, MessageBody=job)  # SQS delivers it a second time
    outreach.drain_followups()
    outreach.drain_outbound()

    assert _followup_texts(outreach) == ["Is your problem solved?"]
    [send] = [s for s in outreach.social.sends("telegram") if "solved" in s["json"]["text"]]
    buttons = [b["text"] for row in send["json"]["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["Yes, solved", "No, not yet"]
    [followup] = outreach.services.followups.store.for_customer(customer_id)
    assert followup.status == "sent" and followup.sent_ms >= followup.due_ms
    assert sweep(load_event("scheduled/minute.json"), None)["followups_queued"] == 0


def test_followup_early_delivery_waits_for_its_time(outreach, clock):
    _, customer_id, conversation_id = _telegram_customer(outreach)
    _resolve(outreach, customer_id, conversation_id)
    [followup] = outreach.services.followups.store.for_customer(customer_id)
    url = outreach.queue_url("FOLLOWUP_QUEUE_NAME")
    outreach.sqs.send_message(QueueUrl=url, MessageBody=(
        f'{{"customer_id": "{customer_id}", "followup_id": "{followup.followup_id}"}}'))
    clock.advance(DAY)  # two days early
    outreach.drain("FOLLOWUP_QUEUE_NAME", outreach.social.app.send_followups, timeout=5, wait_for=lambda: True)
    assert outreach.services.followups.store.for_customer(customer_id)[0].status == "scheduled"
    assert _followup_texts(outreach) == []


def test_no_followup_when_the_customer_wrote_first(outreach, clock):
    user, customer_id, conversation_id = _telegram_customer(outreach)
    _resolve(outreach, customer_id, conversation_id)
    clock.advance(DAY)
    outreach.social.send_text("telegram", "It works again, thanks", user=user, now=clock.now)

    clock.advance(3 * DAY)
    assert outreach.social.app.outreach_sweeps(load_event("scheduled/minute.json"), None)["followups_queued"] == 0
    outreach.drain_followups()
    outreach.drain_outbound()
    assert _followup_texts(outreach) == []
    [followup] = outreach.services.followups.store.for_customer(customer_id)
    assert followup.status == "cancelled" and followup.reason == "customer_wrote_first"


def test_followup_queued_then_cancelled_is_not_sent(outreach, clock):
    user, customer_id, conversation_id = _telegram_customer(outreach)
    _resolve(outreach, customer_id, conversation_id)
    clock.advance(3 * DAY - 60)
    assert outreach.social.app.outreach_sweeps(load_event("scheduled/minute.json"), None)["followups_queued"] == 1
    outreach.social.send_text("telegram", "Never mind, fixed", user=user, now=clock.now)  # while it is queued
    clock.advance(120)
    _deliver_now(outreach, customer_id)
    outreach.drain_followups()
    outreach.drain_outbound()
    assert _followup_texts(outreach) == []


def test_ticket_waiting_on_the_customer_gets_a_reminder_cancelled_when_the_ticket_closes(outreach, clock,
                                                                                        monkeypatch):
    from chalicelib import ids
    from chalicelib.core.events import TicketChanged

    monkeypatch.setenv("FOLLOWUP_TICKET_PENDING_HOURS", "48")
    _, customer_id, conversation_id = _telegram_customer(outreach)
    bus = outreach.services.bus
    common = {"conversation_id": conversation_id, "customer_id": customer_id, "channel": "telegram",
              "priority": "normal"}
    bus.publish(TicketChanged(ticket_id="T-1", ts_ms=ids.now_ms(), from_status="open", to_status="pending", **common))
    [reminder] = outreach.services.followups.store.for_customer(customer_id)
    assert reminder.kind == "ticket_pending" and reminder.due_ms == reminder.created_ms + 48 * 3_600_000
    bus.publish(TicketChanged(ticket_id="T-1", ts_ms=ids.now_ms(), from_status="pending", to_status="solved",
                              **common))
    [reminder] = outreach.services.followups.store.for_customer(customer_id)
    assert reminder.status == "cancelled" and reminder.reason == "ticket_solved"


@pytest.mark.parametrize("keyword", ["退订", "TD", "STOP", "unsubscribe", "Stop!"])
def test_opt_out_keyword_is_recorded_confirmed_and_not_answered_by_the_bot(bot_enabled, outreach, keyword):
    _, customer_id, conversation_id = _telegram_customer(outreach, text=keyword)
    [opt_out] = outreach.services.opt_outs.opt_outs(customer_id)
    assert opt_out.channel == "telegram" and opt_out.keyword == keyword.upper().rstrip("!")
    messages = outreach.social.messages(conversation_id)
    assert [m.sender.type for m in messages] == ["customer", "system"]
    from chalicelib.i18n import Catalog

    language = "zh" if keyword == "退订" else "en"  # the confirmation speaks the customer's language
    assert messages[-1].text == Catalog().text("outreach.optout.confirmed", language)
    outreach.drain_outbound()
    assert len(outreach.social.sends("telegram")) == 1  # the confirmation, on the customer's channel


def test_a_sentence_containing_stop_is_not_an_opt_out(outreach):
    _, customer_id, _ = _telegram_customer(outreach, text="Please stop the delivery, I moved")
    assert outreach.services.opt_outs.opt_outs(customer_id) == []
