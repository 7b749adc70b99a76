"""The agent console in headless Chromium on the local stack: sign-in, the whole desk, roles, the KB.

Each step is screenshotted under test-output/browser/<test>/.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

from browser_harness import BrowserStack, Screenshots
from console_support import Customer, access_token, console_url, desk_users, sign_in
from playwright.sync_api import expect

BOT_LIVE = "bot: model kb-v"
expect.set_options(timeout=30_000)  # a loaded two-core machine: wait with a deadline, not a fixed pause


def _api(stack: BrowserStack, path: str, token: str) -> int:
    request = urllib.request.Request(stack.http + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_sign_in_with_a_seeded_user_and_a_wrong_password(browser_stack: BrowserStack, page: Any,
                                                         shots: Screenshots) -> None:
    users = desk_users(browser_stack)
    assert sorted(role for _, role in users.values()) == ["admin", "agent", "agent", "supervisor"]
    page.goto(console_url(browser_stack))
    page.get_by_label("Username").fill("amy")
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect username or password.")
    shots.step("wrong password is refused")
    page.get_by_label("Password").fill(users["amy"][0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Go online")).to_be_visible()
    expect(page.get_by_text("amy · agent")).to_be_visible()
    shots.step("signed in as an agent")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('console.session')") is None
    shots.step("signed out, tokens forgotten")


def test_a_customer_token_in_the_fragment_is_refused(browser_stack: BrowserStack, page: Any,
                                                     shots: Screenshots) -> None:
    customer = Customer(browser_stack)
    customer.close()
    page.goto(console_url(browser_stack) + f"#token={customer.token}")
    expect(page.get_by_role("alert")).to_have_text("This token is not an agent's token.")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert "token=" not in page.url  # the fragment is taken out of the address bar
    shots.step("customer token refused")


def test_an_agent_token_in_the_fragment_signs_in(browser_stack: BrowserStack, page: Any, shots: Screenshots) -> None:
    from local.token import mint

    page.goto(console_url(browser_stack) + "#token=" + mint("agent", "bob", role="agent"))
    expect(page.get_by_text("bob · agent")).to_be_visible()
    shots.step("company single sign-on token")


def test_an_agent_cannot_open_the_dashboard_or_admin(browser_stack: BrowserStack, page: Any,
                                                      shots: Screenshots) -> None:
    sign_in(page, browser_stack, "bob")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Workspace")).to_be_visible()
    expect(nav.get_by_role("link", name="Dashboard")).to_have_count(0)
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    shots.step("agent sees no dashboard or admin")
    page.goto(console_url(browser_stack) + "#/dashboard")
    expect(page.get_by_role("alert")).to_have_text("You do not have access to this page.")
    shots.step("dashboard by address is refused")
    token = access_token(page)
    for path in ("/supervisor/queue", "/supervisor/agents", "/metrics/live", "/admin/teams"):
        assert _api(browser_stack, path, token) == 403, path
    assert _api(browser_stack, "/agent/work", token) == 200


def test_the_whole_desk(browser_stack: BrowserStack, new_page: Any, page: Any, shots: Screenshots) -> None:
    browser_stack.wait_for_output(BOT_LIVE)
    amy = page
    sign_in(amy, browser_stack, "amy", shots)
    amy.get_by_role("button", name="Go online").click()
    expect(amy.get_by_text("Online", exact=True)).to_be_visible()
    shots.step("amy is online")

    customer = Customer(browser_stack)
    customer.say("Where is my order?")
    bot = customer.message_from("bot")
    customer.send({"action": "requestHuman", "language": "en", "reason": "customer_request"})
    offer = amy.get_by_role("region", name="New offer")
    expect(offer).to_be_visible(timeout=60_000)
    assert "(1)" in amy.title()  # the title badge
    shots.step("an offer arrives with a countdown")
    offer.get_by_role("button", name="Accept").click()
    log = amy.get_by_role("log", name="Transcript")
    expect(log.get_by_text("Where is my order?")).to_be_visible()
    expect(log.get_by_text(bot["text"][:40])).to_be_visible()
    expect(log.get_by_text(re.compile(r"^intent order_status$"))).to_be_visible()  # only agents see the bot's meta
    expect(log.get_by_text(re.compile(r"^confidence [01]\.\d\d$")).first).to_be_visible()
    shots.step("accepted: the bot transcript with intent and confidence")

    amy.get_by_label("Reply").fill("Hi, this is Amy. Let me check your order.")
    amy.get_by_role("button", name="Send").click()
    assert "Let me check your order" in customer.message_from("agent")["text"]
    shots.step("reply sent and received by the customer")

    amy.get_by_role("checkbox", name="Private note").check()
    amy.get_by_role("textbox", name="Note for agents only").fill("Customer sounds upset; check refund history.")
    amy.get_by_role("button", name="Send").click()
    expect(log.get_by_text("Customer sounds upset; check refund history.")).to_be_visible()
    shots.step("a private note, visibly distinct")

    bob = new_page()
    sign_in(bob, browser_stack, "bob")
    bob.get_by_role("button", name="Go online").click()
    expect(bob.get_by_text("Online", exact=True)).to_be_visible()
    amy.get_by_role("button", name="Transfer").click()
    dialog = amy.get_by_role("dialog", name="Transfer to")
    dialog.get_by_label("Agent").fill("bob")
    dialog.get_by_label("Note").fill("Refund question, over to you")
    shots.step("transfer to bob with a note")
    dialog.get_by_role("button", name="Transfer").click()
    bob_offer = bob.get_by_role("region", name="New offer")
    expect(bob_offer).to_be_visible(timeout=60_000)
    shots.step("bob gets the offer", page=bob)
    bob_offer.get_by_role("button", name="Accept").click()
    bob_log = bob.get_by_role("log", name="Transcript")
    expect(bob_log.get_by_text("Let me check your order")).to_be_visible()
    expect(bob_log.get_by_text("Refund question, over to you")).to_be_visible()
    shots.step("bob sees the whole transcript and the transfer note", page=bob)
    bob.get_by_role("button", name="Resolve").click()
    expect(bob.get_by_role("button", name="Reopen")).to_be_visible()
    shots.step("resolved", page=bob)

    customer.wait_for(lambda f: f.get("type") == "message" and "csat:5" in json.dumps(f), what="the rating request")
    customer.send({"action": "rate", "score": 5, "comment": "Great help"})
    customer.wait_for(lambda f: f.get("type") == "rated", what="rated")
    time.sleep(0)  # nothing to wait for: the private note must simply never have reached the customer
    assert not any("refund history" in json.dumps(f) for f in customer.seen)
    customer.close()

    sam = new_page()
    sign_in(sam, browser_stack, "sam")
    sam.get_by_role("link", name="Dashboard").click()
    expect(sam.get_by_test_id("csat-today")).to_have_text("5.00", timeout=60_000)
    expect(sam.get_by_role("cell", name="Bob Agent (bob)")).to_be_visible()
    shots.step("the rating appears on the supervisor's dashboard", page=sam)


def test_a_kb_edit_in_admin_changes_the_bot_answer(browser_stack: BrowserStack, page: Any,
                                                    shots: Screenshots) -> None:
    browser_stack.wait_for_output(BOT_LIVE)
    sign_in(page, browser_stack, "ada")
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("button", name="Edit shipping_time").click()
    answer = "Edited in the console: every order ships the same day."
    page.get_by_label("Answer (English)").fill(answer)
    shots.step("editing an intent's English answer")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    version = int(page.get_by_role("status", name="Training").text_content().split("KB version ")[1].split()[0])
    expect(page.get_by_role("status", name="Training")).to_contain_text(f"Live model: version {version}",
                                                                         timeout=180_000)
    shots.step("retrained: the new version is live")
    customer = Customer(browser_stack)
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline and answer not in text:  # serving re-reads the model pointer every 10 s
        customer.say("How long does shipping take?")
        text = customer.message_from("bot")["text"]
    customer.close()
    assert answer in text


def test_rest_answers_cors_for_the_console_origin_only(browser_stack: BrowserStack) -> None:
    console_origin = browser_stack.web.rstrip("/")
    for origin in (console_origin, "https://evil.example"):
        request = urllib.request.Request(browser_stack.http + "/agent/work", method="OPTIONS", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Access-Control-Allow-Origin"] == console_origin  # never the asker's
            assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
