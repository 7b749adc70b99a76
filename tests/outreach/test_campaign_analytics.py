"""A campaign's delivery report in the analytics stream: one `campaign_recipient` event per recipient and state
(queued, skipped, sent, delivered, read, failed with its reason, replied), pseudonymised, once each even when a
send job is redelivered and receipts repeat; archived to S3, it is the `campaign_delivery` KPI."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics_flow import archive, stream_events, stream_records
from social.social_support import SECRETS, user_of

from local.webhook import signed

from .test_campaigns import SALE_WHATSAPP, _campaign, _run


def _receipt(outreach: Any, user: str, wamid: str, state: str, **extra: Any) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [{
            "id": wamid, "status": state, "timestamp": str(int(time.time())), "recipient_id": user, **extra}]}}]}]}
                      ).encode()
    headers, _ = signed("whatsapp", body, SECRETS)
    assert outreach.social.post("whatsapp", body, headers).status_code == 200


def test_a_campaigns_delivery_report_is_in_the_analytics_stream_once_per_state(outreach, monkeypatch):
    from chalicelib.analytics.kpis import DuckDBEngine, compute_kpis
    from chalicelib.analytics.redact import pseudonymise

    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "100200300")
    social, services = outreach.social, outreach.services
    users = [user_of("whatsapp", i) for i in range(4)]
    for user in users:
        social.send_text("whatsapp", "Hello", user=user)
    social.send_text("whatsapp", "STOP", user=users[3])  # the fourth opts out
    outreach.drain_outbound()
    customers = [social.customer_of("whatsapp", u) for u in users]
    outreach.template("spring_sale", **SALE_WHATSAPP)
    campaign_id = _campaign(outreach, "whatsapp")

    _run(outreach, campaign_id)

    def wamid(index: int) -> str:
        recipient = services.campaigns.store.recipient(campaign_id, customers[index])
        delivery = services.delivery_store.delivery(recipient.conversation_id, recipient.seq)
        return delivery["platform_ids"][0]

    for state in ("delivered", "delivered", "read"):  # the platform says "delivered" twice
        _receipt(outreach, users[0], wamid(0), state)
    _receipt(outreach, users[1], wamid(1), "failed", errors=[{"code": 131026, "title": "Message undeliverable"}])
    social.send_text("whatsapp", "Which products?", user=users[0])  # the first replies
    # SQS delivers a send job and a build step again; the platform repeats its receipts
    url = outreach.queue_url("CAMPAIGN_QUEUE_NAME")
    outreach.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(
        {"type": "send", "campaign_id": campaign_id, "customer_id": customers[0]}))
    outreach.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(
        {"type": "build", "campaign_id": campaign_id, "step": 0}))
    outreach.drain("CAMPAIGN_QUEUE_NAME", social.app.run_campaigns)
    outreach.drain_outbound()
    _receipt(outreach, users[0], wamid(0), "read")
    _receipt(outreach, users[1], wamid(1), "failed", errors=[{"code": 131026, "title": "Message undeliverable"}])
    social.send_text("whatsapp", "And sizes?", user=users[0])

    events = stream_events(social.session, "campaign_recipient")
    pid = {pseudonymise(c, os.environ["PSEUDONYM_KEY"]): n for n, c in enumerate(customers)}
    seen = sorted((pid[e["customer_pid"]], e["campaign_state"], e.get("reason")) for e in events)
    assert seen == sorted([
        (0, "queued", None), (0, "sent", None), (0, "delivered", None), (0, "read", None), (0, "replied", None),
        (1, "queued", None), (1, "sent", None), (1, "failed", "platform_failed"),
        (2, "queued", None), (2, "sent", None),
        (3, "skipped", "opted_out"),
    ])
    assert {e["campaign_id"] for e in events} == {campaign_id} and {e["channel"] for e in events} == {"whatsapp"}
    assert len({e["event_id"] for e in events}) == len(events)
    text = json.dumps(events)
    assert not any(c in text or u in text for c, u in zip(customers, users, strict=True))  # no personal data
    _, report = outreach.rest("GET", f"/campaigns/{campaign_id}", outreach.admin)  # REST agrees
    assert report["counts"] | {"recipients": 0} == {"recipients": 0, "queued": 0, "sent": 1, "delivered": 0,
                                                    "read": 1, "failed": 1, "replied": 1, "skipped": 1}
    assert report["failed_reasons"] == {"platform_failed": 1}

    # archived to S3 and read back as a KPI: the delivery and reply rates of the campaign
    assert archive(social.app, stream_records(social.session)[1]) == {"batchItemFailures": []}
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with DuckDBEngine(s3_client=social.session.client("s3"), bucket=services.bucket_name) as engine:
        kpis = compute_kpis(engine, start - timedelta(days=1), start + timedelta(days=1))
    [row] = kpis.campaign_delivery
    assert (row.campaign_id, row.channel) == (campaign_id, "whatsapp")
    counts = (row.queued, row.skipped, row.sent, row.delivered, row.read, row.failed, row.replied)
    assert counts == (3, 1, 3, 1, 1, 1, 1)
    assert row.delivery_rate == row.reply_rate == 1 / 3 and row.failure_rate == 1 / 3
