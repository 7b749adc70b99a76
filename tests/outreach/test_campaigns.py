"""Campaigns: opted-out customers get nothing, consent is honoured, each customer is sent to once at the rate."""

from __future__ import annotations

import collections
import json
import os
import time

import pytest
from social.social_support import user_of

SALE_TELEGRAM = {"channel": "telegram", "name": "spring_sale", "category": "marketing",
                 "body": "Spring sale: {{discount}} off for you, {{customer_name}}!",
                 "params": ["discount", "customer_name"]}
SALE_WHATSAPP = {"channel": "whatsapp", "name": "spring_sale", "platform_language": "en_US",
                 "category": "marketing", "body": "Hi {{customer_name}}, spring sale: {{discount}} off.",
                 "params": ["customer_name", "discount"]}


def _campaign(outreach, channel, **extra):
    body = {"name": "Spring sale", "template_id": "spring_sale", "channel": channel,
            "params": {"discount": "20%", "customer_name": "{customer_name}"}, **extra}
    status, campaign = outreach.rest("POST", "/campaigns", outreach.admin, body)
    assert status == 201, campaign
    return campaign["campaign_id"]


def _run(outreach, campaign_id, **drain):
    status, started = outreach.rest("POST", f"/campaigns/{campaign_id}/start", outreach.admin)
    assert status == 202 and started["status"] == "building", started
    outreach.drain("CAMPAIGN_QUEUE_NAME", outreach.social.app.run_campaigns, **drain)
    outreach.drain("OUTBOUND_QUEUE_NAME", outreach.social.app.send_outbound, timeout=max(60, drain.get("timeout", 60)))
    status, report = outreach.rest("GET", f"/campaigns/{campaign_id}", outreach.admin)
    assert status == 200
    return report


def test_an_opted_out_customer_receives_nothing_from_a_campaign(outreach):
    social = outreach.social
    users = [user_of("telegram", i) for i in range(1, 4)]
    for user in users:
        social.send_text("telegram", "Hello", user=user)
    social.send_text("telegram", "STOP", user=users[1])  # the second opts out
    outreach.drain_outbound()
    confirmations = len(social.sends("telegram"))
    outreach.template("spring_sale", **SALE_TELEGRAM)

    report = _run(outreach, _campaign(outreach, "telegram"))

    campaign_sends = social.sends("telegram")[confirmations:]
    assert sorted(s["json"]["chat_id"] for s in campaign_sends) == sorted((users[0], users[2]))
    assert all(s["json"]["text"].startswith("Spring sale: 20% off for you") for s in campaign_sends)
    assert report["counts"]["sent"] == 2 and report["counts"]["skipped"] == 1
    assert report["skipped_reasons"] == {"opted_out": 1}


def test_a_customer_who_opts_out_after_the_build_is_skipped_at_send_time(outreach):
    social = outreach.social
    users = [user_of("telegram", i) for i in range(1, 3)]
    for user in users:
        social.send_text("telegram", "Hi", user=user)
    outreach.template("spring_sale", **SALE_TELEGRAM)
    campaign_id = _campaign(outreach, "telegram")
    status, _ = outreach.rest("POST", f"/campaigns/{campaign_id}/start", outreach.admin)
    assert status == 202
    build = outreach.sqs.receive_message(QueueUrl=outreach.queue_url("CAMPAIGN_QUEUE_NAME"))["Messages"][0]
    outreach.services.campaigns.build_page(campaign_id, json.loads(build["Body"])["step"])  # the build ran
    outreach.sqs.delete_message(QueueUrl=outreach.queue_url("CAMPAIGN_QUEUE_NAME"),
                                ReceiptHandle=build["ReceiptHandle"])
    social.send_text("telegram", "退订", user=users[0])  # then the customer opts out
    outreach.drain_outbound()
    before = len(social.sends("telegram"))
    outreach.drain("CAMPAIGN_QUEUE_NAME", social.app.run_campaigns)
    outreach.drain_outbound()
    [send] = social.sends("telegram")[before:]
    assert send["json"]["chat_id"] == users[1]
    _, report = outreach.rest("GET", f"/campaigns/{campaign_id}", outreach.admin)
    assert report["skipped_reasons"] == {"opted_out": 1} and report["counts"]["sent"] == 1


def test_campaigns_are_for_supervisors_and_need_an_approved_template(outreach):
    from support import agent_token

    status, _ = outreach.rest("POST", "/campaigns", agent_token("amy"), {"name": "x", "template_id": "spring_sale",
                                                                        "channel": "telegram"})
    assert status == 403
    status, answer = outreach.rest("POST", "/campaigns", outreach.admin, {"name": "x", "template_id": "nope",
                                                                          "channel": "telegram"})
    assert status == 404 and answer["code"] == "template_not_found"
    outreach.template("spring_sale", **{**SALE_TELEGRAM, "status": "pending"})
    status, answer = outreach.rest("POST", "/campaigns", outreach.admin, {"name": "x", "template_id": "spring_sale",
                                                                          "channel": "telegram"})
    assert status == 400 and answer["code"] == "template_not_approved"


def _paced_campaign(outreach, monkeypatch, count: int, rate: int, *, ticking: bool) -> None:
    """`count` WhatsApp customers, a campaign at `rate` per minute: once each, never faster than the rate.

    A `ticking` clock runs with SQS's own delays (the campaign takes at least count / rate minutes); a
    stopped one moves a second only when nothing is visible, so every window fills whatever the machine."""
    monkeypatch.setenv("CAMPAIGN_RATE_WHATSAPP", str(rate))
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "100200300")  # the business number campaigns go out from
    clock = outreach.virtual_clock(ticking=ticking)
    services = outreach.services
    numbers = [f"1555{i:07d}" for i in range(count)]
    for number in numbers:  # customers who wrote on WhatsApp once (their identity and last contact)
        identity, _ = services.identity_store.resolve("whatsapp", number, profile_name=f"Cust {number[-3:]}")
        services.contact_index.touch(identity.customer_id, "whatsapp", int(clock.now * 1000))
    clock.advance(2 * 86_400)  # two days later: outside the window, only the template may go
    outreach.template("spring_sale", **SALE_WHATSAPP)
    campaign_id = _campaign(outreach, "whatsapp")

    def all_sent() -> bool:
        recipients = services.campaigns.store.recipients(campaign_id)
        return len(recipients) == count and all(r.status == "sent" for r in recipients)

    started = time.monotonic()
    report = _run(outreach, campaign_id, timeout=1800, wait_for=all_sent,
                  between_rounds=None if ticking else lambda: clock.advance(1))
    print(f"\ncampaign of {count} sent and delivered in {time.monotonic() - started:.0f} s")

    sends = outreach.social.sends("whatsapp")
    assert len(sends) == count and sorted(s["json"]["to"] for s in sends) == numbers  # once each
    assert all(s["json"]["template"]["name"] == "spring_sale" for s in sends)
    first = next(s for s in sends if s["json"]["to"] == numbers[7])
    assert [p["text"] for p in first["json"]["template"]["components"][0]["parameters"]] == ["Cust 007", "20%"]
    assert report["counts"]["sent"] == count and report["counts"]["recipients"] == count

    sent_ms = sorted(r.sent_ms for r in services.campaigns.store.recipients(campaign_id))
    per_window = collections.Counter(ms // 1000 for ms in sent_ms)
    span_s = (sent_ms[-1] - sent_ms[0]) / 1000
    measured = count / max(span_s, 1) * 60
    print(f"\ncampaign of {count}: {len(per_window)} one-second windows, at most {max(per_window.values())} sends in "
          f"one (limit {rate // 60}); {span_s:.0f} s of campaign time, {measured:.0f} sends/min (limit {rate})")
    assert max(per_window.values()) <= rate // 60
    assert len(per_window) >= count // (rate // 60)
    if not ticking:  # nothing but the limiter held them back: every window full
        assert sum(1 for n in per_window.values() if n == rate // 60) == count // (rate // 60)

    # a redelivered send job and a replayed build step change nothing
    customer_id = services.identity_store.get("whatsapp", numbers[0]).customer_id
    job = json.dumps({"type": "send", "campaign_id": campaign_id, "customer_id": customer_id})
    outreach.sqs.send_message(QueueUrl=outreach.queue_url("CAMPAIGN_QUEUE_NAME"), MessageBody=job)
    outreach.sqs.send_message(QueueUrl=outreach.queue_url("CAMPAIGN_QUEUE_NAME"),
                              MessageBody=json.dumps({"type": "build", "campaign_id": campaign_id, "step": 0}))
    outreach.drain("CAMPAIGN_QUEUE_NAME", outreach.social.app.run_campaigns)
    outreach.drain_outbound()
    assert len(outreach.social.sends("whatsapp")) == count
    assert os.environ["CAMPAIGN_RATE_WHATSAPP"] == str(rate)


@pytest.fixture
def item_level_rollback():
    """moto rolls a cancelled transaction back by copying the whole table, once per item of every
    transaction: with 500 customers each send's conversation costs seconds. Copies of the items a
    transaction names restore the same state (local/moto_fast.py, checked against moto's)."""
    from local.moto_fast import installed

    with installed():
        yield


def test_a_campaign_to_500_customers_is_sent_once_each_at_the_channel_rate(item_level_rollback, outreach,
                                                                         monkeypatch):
    # 500 customers at 20 per second, in campaign time that passes as SQS's: at least 25 rate windows
    _paced_campaign(outreach, monkeypatch, 500, rate=1200, ticking=True)


def test_a_campaign_fills_each_rate_window_and_no_more(item_level_rollback, outreach, monkeypatch):
    # time stands still while sends are waiting: the limiter, not the machine's speed, spreads them
    _paced_campaign(outreach, monkeypatch, 60, rate=1200, ticking=False)


def test_a_reply_after_the_campaign_is_counted(outreach):
    social = outreach.social
    user = user_of("telegram", 1)
    social.send_text("telegram", "Hello", user=user)
    outreach.template("spring_sale", **SALE_TELEGRAM)
    campaign_id = _campaign(outreach, "telegram")
    _run(outreach, campaign_id)
    social.send_text("telegram", "Which products?", user=user)
    _, report = outreach.rest("GET", f"/campaigns/{campaign_id}", outreach.admin)
    assert report["counts"]["replied"] == 1 and report["counts"]["sent"] == 1


def test_an_opted_in_only_campaign_reaches_only_customers_with_marketing_consent(outreach):
    social = outreach.social
    users = [user_of("telegram", i) for i in range(1, 4)]
    for user in users:
        social.send_text("telegram", "Hello", user=user)
    granted, withdrawn, _never_asked = (social.customer_of("telegram", u) for u in users)
    for customer_id, grant in ((granted, True), (withdrawn, False)):  # the company's backend records consent
        status, _ = outreach.rest("PUT", f"/customers/{customer_id}/consent/telegram", outreach.admin,
                                  {"granted": grant})
        assert status == 200
    outreach.template("spring_sale", **SALE_TELEGRAM)
    before = len(social.sends("telegram"))
    report = _run(outreach, _campaign(outreach, "telegram", segment={"opted_in_only": True}))
    assert [s["json"]["chat_id"] for s in social.sends("telegram")[before:]] == [users[0]]
    assert report["skipped_reasons"] == {"consent_withdrawn": 1, "not_opted_in": 1}
