"""The outbound path under faults: replies to webhook customers (the bot's answers and agents' replies) reach
the platform exactly once each.

WhatsApp, Telegram and LINE customers write in at 10 % DynamoDB/SQS/Kinesis faults (the bot answers each
new conversation, handing it over); an agent answers every conversation twice, retrying a failed post with the same
client message id as the console does; then the outbound queue is consumed as Lambda's event source
mapping would, with batchItemFailures honoured and a fifth of the handled jobs delivered again by SQS,
while 10 % of DynamoDB and SQS calls fail, a third of the delivery-record and send-marker writes lose
their reply after DynamoDB applied them, and the platforms refuse a few sends (429, 500). Checked:
every reply sent once on its platform (counted at the fake platforms), its delivery `sent`, nothing
dead-lettered, nothing left in the queue.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from faults_support import QueueConsumer, messages, queue_depth, record_summary, table_items, ten_percent
from social.social_support import SEND_PATH
from webhook_scenario import USERS, inbound_checks, run_webhooks

from local.fault_proxy import Rule

AGENT_REPLIES = 2


def _recipient(channel: str, request: dict[str, Any]) -> str:
    body = request["json"]
    return str(body["chat_id"] if channel == "telegram" else body["to"])


def _text(channel: str, request: dict[str, Any]) -> str:
    body = request["json"]
    if channel == "whatsapp":
        return body["text"]["body"]
    if channel == "line":
        return body["messages"][0]["text"]
    return body["text"]


def agent_replies(social: dict[str, Any], rules: list[Rule], replies: int = AGENT_REPLIES,
                  tag: str = "r") -> tuple[list[str], dict[str, Any]]:
    """An agent answers every open conversation; a post that failed is sent again with the same id."""
    from chalicelib import services as composition
    from chalicelib.core.models import DedupKey, MessageDraft, Sender
    from chalicelib.store import keys

    proxy, effects = social["proxy"], social["lam"].effects
    conversations = sorted(i["conversation_id"] for i in table_items(proxy) if i.get("sk") == "OPEN")
    proxy.configure(rules, seed=17)
    texts, retried = [], 0
    for n in range(replies):
        for index, conversation_id in enumerate(conversations):
            text = f"agent answer {tag}{n} in conversation {index}"
            draft = MessageDraft(sender=Sender(type="agent", id="agent-1", name="Agent One"), channel="app", text=text)
            for _attempt in range(10):
                try:
                    composition.services().conversations.post(
                        conversation_id, draft, DedupKey(keys.dedup_scope("agent", "agent-1"), f"{tag}-{index}-{n}"))
                    break
                except Exception:  # the console shows "not sent" and sends it again
                    retried += 1
            else:
                raise AssertionError(f"{text!r} never posted")
            effects.drain()
            texts.append(text)
    stats = proxy.state.snapshot()
    proxy.clear()
    return texts, {"stats": stats, "retried_posts": retried}


def outbound_rules() -> list[Rule]:
    return [Rule("dynamodb", "PutItem", 0.33, ("lost_reply",)), Rule("dynamodb", "UpdateItem", 0.33, ("lost_reply",)),
            *ten_percent("dynamodb", "sqs")]


def test_replies_to_webhook_customers_sent_once_each_despite_faults_and_redelivery(social_server):
    proxy, fake, app = social_server["proxy"], social_server["fake"], social_server["lam"].app
    inbound = run_webhooks(social_server, ten_percent("dynamodb", "sqs", "kinesis"), per_user=1)
    inbound_checks(proxy, inbound["sent"])
    texts, posting = agent_replies(social_server, ten_percent("dynamodb", "sqs", "kinesis"))
    fake.fail("/messages", 500, times=1)  # WhatsApp's API fails once, Telegram's throttles once
    fake.fail("/sendMessage", 429, times=1)

    rules = outbound_rules()
    proxy.configure(rules, seed=19)
    proxy.reset_counters()
    consumer = QueueConsumer(proxy.direct("sqs"), os.environ["OUTBOUND_QUEUE_NAME"], app.send_outbound,
                             redeliver=0.2, seed=19)
    consumer.drain()
    stats = proxy.state.snapshot()
    proxy.clear()

    items = table_items(proxy)
    replies = [m for m in messages(items) if m["sender"]["type"] in ("bot", "agent")]
    route = {i["conversation_id"]: (i["reply_channel"], i["reply_external_id"])
             for i in items if i.get("sk") == "META" and i.get("reply_channel")}
    expected = Counter((*route[m["conversation_id"]], m["text"]) for m in replies)
    assert len(replies) == len(USERS) * (1 + AGENT_REPLIES) and set(texts) <= {m["text"] for m in replies}
    accepted: Counter[tuple[str, str, str]] = Counter()
    for channel in {c for c, _ in USERS}:
        for request in fake.requests(SEND_PATH[channel]):
            accepted[(channel, _recipient(channel, request), _text(channel, request))] += 1
    # the two sends the platforms refused were sent again: one extra request each, not an extra message
    doubled = {k: c for k, c in accepted.items() if c > expected[k]}
    assert sum(c - expected[k] for k, c in doubled.items()) <= 2, f"sent twice: {doubled}"
    missing = {k for k in expected if accepted[k] == 0}
    assert missing == set(), f"replies never sent: {missing}; " + "; ".join(
        f"{m['text']}: {m.get('delivery')}" for m in replies
        if (*route[m["conversation_id"]], m["text"]) in missing) + f"; consumer {consumer.stats}"
    statuses = Counter(m.get("delivery", {}).get("status") for m in replies)
    assert statuses == Counter({"sent": len(replies)}), statuses
    dead = queue_depth(proxy.direct("sqs"), os.environ["OUTBOUND_QUEUE_NAME"] + "-dlq")
    assert dead == 0 and consumer.left() == 0, (dead, consumer.left())
    platform_requests = sum(accepted.values())
    assert platform_requests == len(replies) + 2, (platform_requests, len(replies))  # + the two refused sends
    record_summary("outbound_path", stats, rules, replies=len(replies), bot_answers=len(USERS),
                   agent_replies=len(texts), agent_posts_retried=posting["retried_posts"],
                   platform_requests=platform_requests, platform_refusals=2, sent_twice=0, lost=0,
                   jobs_received=consumer.stats["records"], jobs_redelivered=consumer.stats["redelivered"],
                   jobs_failed_and_retried=consumer.stats["failed"], dead_lettered=dead,
                   faults_while_posting=posting["stats"]["faults_total"])


def test_a_claim_whose_reply_was_lost_is_the_senders_own(social_server):
    """The send marker's claim applied by DynamoDB, its reply lost: once (botocore's retry fails the condition
    on the claim it made), then on every attempt (the job fails and SQS delivers it again). Before the claim
    named its claimant, both answered "busy" until the lease ran out, and the redeliveries used up the queue's
    receive count: the reply was dead-lettered by the redrive policy without ever being sent."""
    proxy, fake, app = social_server["proxy"], social_server["fake"], social_server["lam"].app
    inbound = run_webhooks(social_server, [], users=USERS[:1], per_user=1)
    inbound_checks(proxy, inbound["sent"])
    consumer = QueueConsumer(proxy.direct("sqs"), os.environ["OUTBOUND_QUEUE_NAME"], app.send_outbound)
    consumer.drain()  # the bot's answer, without faults
    for limit in (1, 4):  # 4: every attempt of the first delivery of the job
        fake.reset()
        texts, _ = agent_replies(social_server, [], replies=1, tag=f"lost{limit}")
        proxy.configure([Rule("dynamodb", "PutItem", 1.0, ("lost_reply",), limit=limit)], seed=1)
        proxy.reset_counters()
        consumer.drain(max_rounds=10)
        faults = proxy.state.snapshot()["faults"]
        proxy.clear()
        assert faults == {"dynamodb.PutItem:lost_reply": limit}
        assert [_text("whatsapp", r) for r in fake.requests(SEND_PATH["whatsapp"])] == texts
        dlq = queue_depth(proxy.direct("sqs"), os.environ["OUTBOUND_QUEUE_NAME"] + "-dlq")
        assert consumer.left() == 0 and dlq == 0
