"""The console's socket is the SDK's: a reply typed while it is cut is delivered once after the reconnect.

The agent's network goes away (the browser offline, the socket cut without a close frame); meanwhile
the customer writes, and the agent types a reply, which waits in the outbox marked "not sent yet".
Back online, the console reconnects, resyncs the open conversation (the customer's message appears)
and sends the reply with its client_msg_id: the customer receives it once and the server stores it
once; the agent is online again (the server had set them offline when their only socket went).
Screenshots of each step under test-output/browser/<test>/.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any

from browser_harness import BrowserStack, Screenshots
from console_support import Customer, access_token, sign_in
from playwright.sync_api import expect

expect.set_options(timeout=30_000)  # a loaded two-core machine: wait with a deadline, not a fixed pause
REPLY = "Your parcel left our warehouse this morning."


def _subject(token: str) -> str:
    part = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["sub"])


def _drop(stack: BrowserStack, subject: str) -> int:
    body = json.dumps({"subject": subject, "mode": "abort"}).encode()
    request = urllib.request.Request(f"{stack.control}/_control/drop", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.loads(response.read())["dropped"])


def _stored_agent_texts(customer: Customer) -> list[str]:
    """The agent messages of the customer's conversation, as the server has them (a history page)."""
    customer.send({"action": "history", "limit": 100})
    page = customer.wait_for(lambda f: f.get("type") == "history", what="a history page")
    return [m.get("text") or "" for m in page["messages"] if m["sender"]["type"] == "agent"]


def _agent_texts_seen(customer: Customer) -> list[str]:
    return [f["message"].get("text") or "" for f in customer.seen
            if f.get("type") == "message" and f["message"]["sender"]["type"] == "agent"]


def test_a_reply_typed_while_the_socket_is_cut_is_delivered_once_after_the_reconnect(
        browser_stack: BrowserStack, page: Any, shots: Screenshots) -> None:
    sign_in(page, browser_stack, "amy", shots)
    page.get_by_role("button", name="Go online").click()
    expect(page.get_by_text("Online", exact=True)).to_be_visible()
    customer = Customer(browser_stack)
    customer.say("Has my parcel been sent?")
    customer.message_from("bot", timeout=120)
    customer.send({"action": "requestHuman", "language": "en", "reason": "customer_request"})
    offer = page.get_by_role("region", name="New offer")
    expect(offer).to_be_visible(timeout=60_000)
    offer.get_by_role("button", name="Accept").click()
    log = page.get_by_role("log", name="Transcript")
    expect(log.get_by_text("Has my parcel been sent?")).to_be_visible()
    shots.step("accepted, connected")

    page.context.set_offline(True)
    assert _drop(browser_stack, _subject(access_token(page))) >= 1  # cut without a close frame
    expect(page.get_by_role("status").filter(has_text="reconnecting")).to_be_visible()
    shots.step("the socket is cut")
    customer.say("Hello? Anyone there?")  # while the agent is away: it comes with the resync
    page.get_by_label("Reply").fill(REPLY)
    page.get_by_role("button", name="Send").click()
    expect(log.get_by_text(REPLY)).to_be_visible()
    expect(log.get_by_text("not sent yet")).to_be_visible()
    pending = log.locator(".msg").filter(has_text="not sent yet")
    expect(pending.get_by_text("Amy Agent", exact=True)).to_be_visible()  # signed as the stored reply will be
    assert _agent_texts_seen(customer) == []
    shots.step("the reply waits in the outbox")

    page.context.set_offline(False)
    received = customer.message_from("agent", timeout=60)
    assert received["text"] == REPLY
    expect(page.get_by_role("status").filter(has_text="reconnecting")).to_be_hidden()
    expect(log.get_by_text("Hello? Anyone there?")).to_be_visible()  # the resync after the reconnect
    expect(log.get_by_text("not sent yet")).to_have_count(0)
    expect(log.get_by_text(REPLY)).to_have_count(1)
    expect(log.locator(".msg").filter(has_text=REPLY).get_by_text("Amy Agent", exact=True)).to_be_visible()
    status = page.get_by_role("group", name="Your status")
    expect(status.get_by_text("Online", exact=True)).to_be_visible()  # the chosen status, asked for again
    expect(status.get_by_role("button", name="Go online")).to_have_count(0)
    shots.step("reconnected: the reply is delivered, the conversation resynced, the agent online again")

    assert _stored_agent_texts(customer).count(REPLY) == 1, "the server stored the reply once"
    assert _agent_texts_seen(customer) == [REPLY], "the customer received the reply once"
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    shots.step("resolved")
    customer.close()
