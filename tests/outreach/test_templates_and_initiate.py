"""Templates (validation, the policy engine's pick outside the window, the agent's choice) and
agent-initiated conversations (free text, template, the reason when neither, the offline app customer)."""

from __future__ import annotations

import time

import pytest
from social.social_support import user_of
from support import agent_token, customer_token

from .outreach_support import REENGAGE_WHATSAPP


def _whatsapp_customer(social, hours_ago: float, text: str = "Where is my order?"):
    user = user_of("whatsapp")
    social.send_text("whatsapp", text, user=user, now=time.time() - hours_ago * 3600)
    customer_id = social.customer_of("whatsapp", user)
    return user, customer_id, social.open_conversation(customer_id)


def _template_params(send):
    [component] = send["json"]["template"]["components"]
    return [p["text"] for p in component["parameters"]]


# -- registering templates ----------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "problem"), [
    ({**REENGAGE_WHATSAPP, "params": ["customer_name"]}, "placeholders"),
    ({**REENGAGE_WHATSAPP, "name": "Service Update"}, "lower-case"),
    ({**REENGAGE_WHATSAPP, "body": "x" * 1025, "params": []}, "at most 1024"),
    ({"channel": "messenger", "name": "update", "body": "{{text}}", "params": ["text"]}, "needs a tag"),
    ({"channel": "wechat", "name": "short", "body": "{{first}}", "params": ["first"]}, "template id"),
    ({**REENGAGE_WHATSAPP, "channel": "viber"}, "unknown channel"),
])
def test_template_is_validated_on_save(outreach, fields, problem):
    status, answer = outreach.rest("PUT", "/admin/templates/bad/en", outreach.admin, fields)
    assert status == 400
    assert problem in str(answer["details"])


def test_only_admins_register_templates_and_agents_list_the_approved_ones(outreach):
    agent = agent_token("amy")
    status, _ = outreach.rest("PUT", "/admin/templates/service_update/en", agent, REENGAGE_WHATSAPP)
    assert status == 403
    outreach.template("service_update", **REENGAGE_WHATSAPP)
    outreach.template("draft_offer", **{**REENGAGE_WHATSAPP, "name": "draft_offer", "status": "pending",
                                        "purposes": []})
    status, usable = outreach.rest("GET", "/templates", agent)
    assert status == 200 and [t["template_id"] for t in usable] == ["service_update"]
    status, everything = outreach.rest("GET", "/admin/templates", outreach.admin)
    assert sorted(t["template_id"] for t in everything) == ["draft_offer", "service_update"]


# -- the policy engine picks the template when free text is not allowed -----------------------------


def test_whatsapp_customer_outside_the_window_gets_the_template_with_the_right_parameters(outreach):
    social = outreach.social
    user, _, conversation_id = _whatsapp_customer(social, hours_ago=25)
    outreach.template("service_update", **REENGAGE_WHATSAPP)
    outreach.template("service_update", "zh", **{**REENGAGE_WHATSAPP, "platform_language": "zh_CN",
                                                 "body": "您好 {{customer_name}}，{{text}}"})

    reply = social.agent_reply(conversation_id, "Your parcel left\nour warehouse today.")
    outreach.drain_outbound()

    [send] = social.sends("whatsapp")
    assert send["json"]["to"] == user and send["json"]["type"] == "template"
    template = send["json"]["template"]
    assert template["name"] == "service_update" and template["language"] == {"code": "en_US"}
    assert _template_params(send)[1] == "Your parcel left our warehouse today."  # no new lines in parameters
    delivery = social.delivery(reply)
    assert delivery["status"] == "sent" and delivery["via_template"] == "service_update"
    assert delivery["refused_free_text"] == "outside_24h_window"


def test_inside_the_window_free_text_goes_as_it_is(outreach):
    social = outreach.social
    _, _, conversation_id = _whatsapp_customer(social, hours_ago=1)
    outreach.template("service_update", **REENGAGE_WHATSAPP)
    social.agent_reply(conversation_id, "On its way")
    outreach.drain_outbound()
    [send] = social.sends("whatsapp")
    assert send["json"]["type"] == "text" and send["json"]["text"]["body"] == "On its way"


def test_messenger_outside_the_window_goes_with_its_message_tag(outreach):
    social = outreach.social
    user = user_of("messenger")
    social.send_text("messenger", "Hello?", user=user, now=time.time() - 30 * 3600)
    conversation_id = social.open_conversation(social.customer_of("messenger", user))
    outreach.template("human_agent", channel="messenger", name="human_agent", body="{{text}}", params=["text"],
                      tag="HUMAN_AGENT", purposes=["reengage"])
    social.agent_reply(conversation_id, "Sorry for the wait, here is the answer")
    outreach.drain_outbound()
    [send] = social.sends("messenger")
    assert send["json"]["messaging_type"] == "MESSAGE_TAG" and send["json"]["tag"] == "HUMAN_AGENT"
    assert send["json"]["message"]["text"] == "Sorry for the wait, here is the answer"


# -- agent-initiated conversations --------------------------------------------------------------


def test_agent_starts_a_conversation_with_an_offline_app_customer_who_gets_it_on_connect(outreach, monkeypatch,
                                                                                          management_api):
    social = outreach.social
    monkeypatch.setenv("PUSH_CALLBACK_URL", social.fake.url + "/push/notify")
    monkeypatch.setenv("PUSH_CALLBACK_SECRET", "push-secret")
    from support import Lambda

    lam = Lambda(social.app)
    assert lam.connect("phone-1=", customer_token("cus-app-1", name="Lin"))["statusCode"] == 200
    lam.disconnect("phone-1=")  # the customer is offline now
    token = outreach.online_agent("amy")

    body = {"customer_id": "cus-app-1", "channel": "app", "text": "Hi Lin, your refund was approved.",
            "client_msg_id": "start-1"}
    status, answer = outreach.rest("POST", "/conversations", token, body)
    assert status == 201, answer
    assert answer["mode"] == "free_text" and answer["assigned_to_you"] is True and answer["push_notified"] is True
    [push] = social.fake.requests("/push/notify")
    assert push["json"]["customer_id"] == "cus-app-1" and push["headers"]["x-signature-256"].startswith("sha256=")

    status, again = outreach.rest("POST", "/conversations", token, body)  # the same client_msg_id: no second message
    assert status == 200 and again["duplicate"] is True and again["message"]["message_id"] == answer["message"][
        "message_id"]

    assert lam.connect("phone-2=", customer_token("cus-app-1", name="Lin"))["statusCode"] == 200
    lam.send("phone-2=", {"action": "history", "after_seq": 0})  # the client's resync after connecting
    [page] = management_api.of_type("phone-2=", "history")
    assert page["conversation_id"] == answer["conversation_id"]
    assert [(m["sender"]["type"], m["text"]) for m in page["messages"]] == [
        ("agent", "Hi Lin, your refund was approved.")]
    assert management_api.of_type("phone-1=", "message") == []  # nothing was pushed to the closed socket


def test_outside_the_window_without_a_template_the_reason_is_returned_and_nothing_is_sent(outreach):
    social = outreach.social
    _, customer_id, conversation_id = _whatsapp_customer(social, hours_ago=30)
    before = len(social.messages(conversation_id))
    token = outreach.online_agent("amy")
    status, answer = outreach.rest("POST", "/conversations", token, {
        "customer_id": customer_id, "channel": "whatsapp", "text": "Any news?", "client_msg_id": "s-1"})
    assert status == 409 and answer["code"] == "outside_24h_window"
    assert "template" in answer["message"]
    assert len(social.messages(conversation_id)) == before
    outreach.drain_outbound()
    assert social.sends("whatsapp") == []


def test_agent_starts_a_whatsapp_conversation_with_a_chosen_template(outreach):
    social = outreach.social
    user, customer_id, _ = _whatsapp_customer(social, hours_ago=72)
    outreach.template("order_shipped", channel="whatsapp", name="order_shipped", platform_language="en_US",
                      body="Order {{order}} has shipped, {{customer_name}}.", params=["order", "customer_name"])
    token = outreach.online_agent("amy")
    status, answer = outreach.rest("POST", "/conversations", token, {
        "customer_id": customer_id, "channel": "whatsapp", "client_msg_id": "s-2",
        "template": {"template_id": "order_shipped", "params": {"order": "A-1009", "customer_name": "Sam"}}})
    assert status == 201, answer
    assert answer["mode"] == "template" and answer["message"]["text"] == "Order A-1009 has shipped, Sam."
    outreach.drain_outbound()
    [send] = social.sends("whatsapp")
    assert send["json"]["to"] == user and send["json"]["template"]["name"] == "order_shipped"
    assert _template_params(send) == ["A-1009", "Sam"]

    # the agent now holds the conversation and can choose a template in a reply too
    status, posted = outreach.rest("POST", f"/agent/conversations/{answer['conversation_id']}/messages", token, {
        "client_msg_id": "r-1", "template": {"template_id": "order_shipped", "params": {"order": "A-1010"}}})
    assert status == 201, posted
    outreach.drain_outbound()
    assert _template_params(social.sends("whatsapp")[-1])[0] == "A-1010"


def test_a_missing_template_parameter_is_a_clear_error(outreach):
    social = outreach.social
    _, customer_id, _ = _whatsapp_customer(social, hours_ago=72)
    outreach.template("order_shipped", channel="whatsapp", name="order_shipped",
                      body="Order {{order}} has shipped.", params=["order"])
    token = outreach.online_agent("amy")
    status, answer = outreach.rest("POST", "/conversations", token, {
        "customer_id": customer_id, "channel": "whatsapp", "client_msg_id": "s-3",
        "template": {"template_id": "order_shipped", "params": {}}})
    assert status == 400 and answer["code"] == "template_params_missing"
    assert answer["details"] == {"missing": ["order"]}
