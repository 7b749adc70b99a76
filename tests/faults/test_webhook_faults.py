"""The webhook path at 10 % injected DynamoDB, SQS and Kinesis faults (throttling, 5xx, resets, lost replies,
one request held past the client's read timeout).

WhatsApp, Telegram and LINE users write in; each platform signs its webhook as it does in production and
delivers it again, byte for byte, until it is answered 2xx. Checked on moto directly: every inbound
message stored once, one identity and one customer per platform user, and each message's effects once
(its `message_in` event; the bot's answer, a handoff, to each first message and that answer's `message_out`
event).
"""

from __future__ import annotations

from faults_support import record_summary
from webhook_scenario import PER_USER, USERS, inbound_checks, run_webhooks, webhook_rules


def test_webhooks_at_ten_percent_faults_stored_once_one_customer_per_user_effects_once(social_server):
    rules = webhook_rules()
    run = run_webhooks(social_server, rules)

    stats = run["stats"]
    assert stats["faults_total"] >= 0.05 * stats["requests_total"], stats
    assert any(k.endswith(":timeout") for k in stats["faults"]), "one request was held past the read timeout"
    assert all(s == 200 or s >= 500 for s in run["statuses"]), run["statuses"]  # 2xx or a retryable error
    assert sum(c for s, c in run["statuses"].items() if s >= 500) >= 2, (run["statuses"], stats["faults"])
    counts = inbound_checks(social_server["proxy"], run["sent"])
    assert counts["messages"] == len(USERS) * PER_USER
    record_summary("webhook_path", stats, rules, deliveries=len(run["sent"]), http_statuses=run["statuses"],
                   attempts_per_delivery=run["attempts"],
                   **{k: v for k, v in counts.items() if k != "bot"}, lost=0, duplicated=0)
