"""The webhook scenario shared by the webhook and outbound fault suites: platform users writing in while
faults are injected, and the checks of what the inbound side must have stored once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from faults_support import Platform, message_events, messages, table_items, ten_percent
from support import EffectsQueue

from local.fault_proxy import Rule

USERS = ([("whatsapp", f"1555000{i:04d}") for i in range(3)] + [("telegram", str(700000100 + i)) for i in range(3)]
         + [("line", f"U{i:032d}") for i in range(2)])
PER_USER = 3


def webhook_rules() -> list[Rule]:
    """10 % everywhere, plus bursts that outlast botocore's attempts (four for DynamoDB), so that some deliveries are
    answered 5xx and the platform's retry is what saves them: the first new customer's transaction, the first
    effects scheduled, and one DynamoDB request held past the client's 10 s read timeout."""
    return [Rule("dynamodb", "TransactWriteItems", 1.0, ("throttle", "5xx"), limit=4),
            Rule("sqs", "SendMessage", 1.0, ("5xx", "reset"), limit=4),
            Rule("dynamodb", "*", 1.0, ("timeout",), timeout_s=10.5, limit=1),
            *ten_percent("dynamodb", "sqs", "kinesis")]


def order_question(index: int, n: int) -> str:
    return f"where is my order {index}-{n}?"


def run_webhooks(social: dict[str, Any], rules: list[Rule], users: list[tuple[str, str]] = USERS,
                 per_user: int = PER_USER, text: Callable[[int, int], str] = order_question,
                 between_rounds: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Every user writes `per_user` messages (interleaved) with `rules` in force; returns what was sent.
    `text(user index, n)` must end with `-{n}?`; `between_rounds(n)` runs before round n."""
    proxy = social["proxy"]
    platform = Platform(social["client"], EffectsQueue(social["lam"].app), social["secrets"])
    proxy.configure(rules, seed=13)
    proxy.reset_counters()
    sent: dict[str, tuple[str, str]] = {}
    attempts = Counter()
    for n in range(per_user):
        if between_rounds is not None:
            between_rounds(n)
        for index, (channel, user) in enumerate(users):
            body = text(index, n)
            attempts[platform.deliver(channel, body, user=user, event_id=str(810000 + index * 100 + n))] += 1
            sent[body] = (channel, user)
    stats = proxy.state.snapshot()
    proxy.clear()
    return {"sent": sent, "stats": stats, "statuses": dict(platform.statuses), "attempts": dict(attempts)}


def inbound_checks(proxy: Any, sent: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Stored once, one identity and customer per user, effects once: the counts, or an assertion error."""
    items = table_items(proxy)
    stored = messages(items)
    customer_messages = [m for m in stored if m["sender"]["type"] == "customer"]
    by_text = Counter(m["text"] for m in customer_messages)
    assert {t for t in sent if by_text[t] == 0} == set(), "inbound messages lost"
    assert {t: c for t, c in by_text.items() if c > 1} == {}, "inbound messages stored twice"

    users = set(sent.values())
    identities = Counter((i["channel"], i["external_id"]) for i in items if i.get("sk") == "IDENTITY")
    assert identities == Counter(dict.fromkeys(users, 1)), "one identity per platform user"
    owner = {(i["channel"], i["external_id"]): i["customer_id"] for i in items if i.get("sk") == "IDENTITY"}
    profiles = {i["customer_id"] for i in items if i.get("sk") == "PROFILE" and str(i["pk"]).startswith("CUST#")}
    assert profiles == set(owner.values()) and len(profiles) == len(users), "one customer per user, no orphan"
    for message in customer_messages:
        assert message["sender"]["id"] == owner[sent[message["text"]]], "a user's messages are that customer's"
    open_pointers = [i for i in items if i.get("sk") == "OPEN"]
    assert len(open_pointers) == len(users), "one open conversation per customer"

    # The bot (untrained here) hands each conversation to a human on its first message, then stays silent.
    bot = [m for m in stored if m["sender"]["type"] == "bot"]
    answers = Counter(m["meta"]["in_reply_to"] for m in bot)
    ids = {m["message_id"] for m in customer_messages}
    first = {m["message_id"] for m in customer_messages if m["text"].endswith("-0?")}
    assert {i for i in first if answers[i] == 0} == set(), "first messages the bot never answered"
    assert {i: c for i, c in answers.items() if c > 1} == {}, "customer messages answered twice"
    assert set(answers) == first, "the bot answered after handing over"
    message_in, message_out = message_events(proxy, "message_in"), message_events(proxy, "message_out")
    assert {i: message_in[i] for i in ids if message_in[i] != 1} == {}, "message_in events not exactly once"
    bot_ids = {m["message_id"] for m in bot}
    assert {i: message_out[i] for i in bot_ids if message_out[i] != 1} == {}, "message_out events not exactly once"
    return {"messages": len(customer_messages), "users": len(users), "customers": len(profiles),
            "bot_answers": len(bot), "message_in_events": sum(message_in[i] for i in ids),
            "message_out_events": sum(message_out[i] for i in bot_ids), "bot": bot}
