"""Platform events, unsupported types, and one customer across channels (merge, timeline, undo)."""

from __future__ import annotations

import json
import time

from support import Lambda, agent_token, customer_token, load_event  # noqa: F401 - tests/support.py

from local.webhook import signed_request

from .social_support import ROOT, SECRETS, user_of


def _wechat_sample(social, name: str, user: str, offset: int = 0) -> None:
    # WeChat's event key is openid + CreateTime (the platform's own dedup rule): one event per second
    body = (ROOT / "events" / "webhooks" / "wechat" / name).read_bytes()
    body = body.replace(b"oFAKEopenid000000000000001", user.encode())
    body = body.replace(b"<CreateTime>1700000000", f"<CreateTime>{int(time.time()) + offset}".encode())
    body, headers, query = signed_request("wechat", body, SECRETS)
    assert social.post("wechat", body, headers, query).status_code == 200


def test_follow_unfollow_and_unsupported_types_are_recorded(social):
    from chalicelib import services as composition

    user = user_of("wechat")
    _wechat_sample(social, "event_subscribe.xml", user)
    customer_id = social.customer_of("wechat", user)
    assert composition.services().identity_store.get("wechat", user).following is True
    _wechat_sample(social, "shortvideo_unsupported_type.xml", user)
    _wechat_sample(social, "event_unsubscribe.xml", user, offset=1)
    assert composition.services().identity_store.get("wechat", user).following is False

    messages = social.messages(social.open_conversation(customer_id))
    assert [(m.kind, m.visibility, m.meta["raw_type"]) for m in messages] == [
        ("event", "internal", "event:subscribe"),
        ("unsupported", "public", "miniprogrampage"),
        ("event", "internal", "event:unsubscribe"),
    ]


def test_unfollow_without_open_conversation_only_updates_the_identity(social):
    from chalicelib import services as composition

    user = user_of("wechat")
    _wechat_sample(social, "event_unsubscribe.xml", user)
    identity = composition.services().identity_store.get("wechat", user)
    assert identity.following is False
    assert composition.services().conversation_store.open_conversation_id(identity.customer_id) is None


def _auth(role: str = "supervisor") -> dict[str, str]:
    return {"Authorization": f"Bearer {agent_token('sup-1', role)}", "Content-Type": "application/json"}


def test_merge_gives_one_timeline_and_the_conversation_continues_on_wechat(social):

    # The customer writes on WeChat (a new customer is created for the openid) ...
    openid = user_of("wechat")
    social.send_text("wechat", "我的订单在哪里？", user=openid)
    wechat_customer = social.customer_of("wechat", openid)
    # ... and in the app, logged in as the company's customer "alice".
    lam = Lambda(social.app)
    # (no identity for the app: the token's sub is the customer id)
    assert lam.connect("c-alice", customer_token("alice", name="Alice"))["statusCode"] == 200
    lam.send("c-alice", {"action": "sendMessage", "client_msg_id": "a1", "text": "Where is my order?"})

    client = social.client.http
    assert client.post("/customers/alice/merge", headers=_auth("agent"),
                       body=json.dumps({"source_customer_id": wechat_customer})).status_code == 403
    assert client.post("/customers/alice/merge", headers={"Content-Type": "application/json"},
                       body=json.dumps({"source_customer_id": wechat_customer})).status_code == 401
    bad = client.post("/customers/alice/merge", headers=_auth(), body=json.dumps({}))
    assert bad.status_code == 400 and bad.json_body["code"] == "invalid_input"

    merged = client.post("/customers/alice/merge", headers=_auth(),
                         body=json.dumps({"source_identity": {"channel": "wechat", "external_id": openid},
                                          "reason": "same phone, verified by CRM"}))
    assert merged.status_code == 201, merged.body
    audit = merged.json_body
    assert audit["audit_id"].startswith("mrg_") and audit["source_customer_id"] == wechat_customer
    assert audit["actor_id"] == "sup-1" and audit["identities"] == [{"channel": "wechat", "external_id": openid}]

    # (reads by a supervisor: an agent reads only customers offered or assigned to them, tests/agents)
    timeline = client.get("/customers/alice/timeline", headers=_auth()).json_body
    assert [(m["channel"], m["text"]) for m in timeline["messages"]] == [
        ("wechat", "我的订单在哪里？"), ("app", "Where is my order?")]
    looked_up = client.get(f"/customers/lookup?channel=wechat&external_id={openid}", headers=_auth())
    assert looked_up.status_code == 200 and looked_up.json_body["customer_id"] == "alice"
    profile = client.get("/customers/alice", headers=_auth()).json_body
    assert [i["channel"] for i in profile["identities"]] == ["wechat"]
    assert profile["merges"][0]["audit_id"] == audit["audit_id"]
    assert client.get(f"/customers/{wechat_customer}", headers=_auth()).json_body["merged_into"] == "alice"

    # The next WeChat message continues Alice's open conversation, and the answer goes to WeChat.
    social.send_text("wechat", "还在吗？", user=openid)
    conversation_id = social.open_conversation("alice")
    assert [m.text for m in social.messages(conversation_id)] == ["Where is my order?", "还在吗？"]
    social.agent_reply(conversation_id, "您的订单今天发货")
    social.drain_outbound()
    [sent] = social.sends("wechat")
    assert sent["json"]["touser"] == openid and sent["json"]["text"]["content"] == "您的订单今天发货"

    # Undo puts the identity and its old conversation back; the audit record says so.
    again = client.post(f"/customers/alice/merge/{audit['audit_id']}/undo", headers=_auth("admin"), body="")
    assert again.status_code == 200 and again.json_body["status"] == "undone"
    assert client.post(f"/customers/alice/merge/{audit['audit_id']}/undo", headers=_auth(),
                       body="").status_code == 409
    assert social.customer_of("wechat", openid) == wechat_customer
    texts = [m["text"] for m in client.get("/customers/alice/timeline", headers=_auth()).json_body["messages"]]
    assert "我的订单在哪里？" not in texts and "Where is my order?" in texts
    assert client.get("/customers/nobody/timeline", headers=_auth()).status_code == 404
    assert client.get("/customers/lookup?channel=wechat&external_id=none", headers=_auth()).status_code == 404


def test_merge_moves_an_open_conversation_when_the_target_has_none(social):
    openid = user_of("wechat")
    social.send_text("wechat", "hello", user=openid)
    source = social.customer_of("wechat", openid)
    conversation_id = social.open_conversation(source)
    user = user_of("line")
    social.send_text("line", "hi on LINE", user=user)
    target = social.customer_of("line", user)
    social.client.http.post(f"/customers/{target}/merge", headers=_auth(),
                            body=json.dumps({"source_customer_id": source}))
    # Target already had an open (LINE) conversation: the WeChat one is closed, the LINE one continues.
    from chalicelib import services as composition

    assert composition.services().conversation_store.get_conversation(conversation_id).status == "closed"
    social.send_text("wechat", "second", user=openid)
    assert [m.text for m in social.messages(social.open_conversation(target))] == ["hi on LINE", "second"]
    conflict = social.client.http.post(f"/customers/{target}/merge", headers=_auth(),
                                       body=json.dumps({"source_customer_id": source}))
    assert conflict.status_code == 409


def test_late_redelivery_after_the_conversation_closed_opens_nothing(social):
    from chalicelib import services as composition

    user = user_of("line")
    social.send_text("line", "first", user=user, event_id="late-1")
    customer_id = social.customer_of("line", user)
    conversation_id = social.open_conversation(customer_id)
    composition.services().conversations.close(conversation_id, "resolved")
    [response] = social.send_text("line", "first", user=user, event_id="late-1")
    assert response.json_body["duplicates"] == 1
    assert composition.services().conversation_store.open_conversation_id(customer_id) is None


def test_concurrent_first_contacts_create_one_customer(social):
    from chalicelib import services as composition
    from chalicelib.store.identity_store import IdentityStore
    from chalicelib.store.table import Table

    store = composition.services().identity_store
    first, created = store.resolve("whatsapp", "15550009999", profile_name="Ana")
    assert created and first.customer_id.startswith("cus_")

    class LostTheRace(IdentityStore):  # read "nothing" just before the other invocation wrote
        calls = 0

        def get(self, channel, external_id):
            self.calls += 1
            return None if self.calls == 1 else super().get(channel, external_id)

    racer = LostTheRace(Table(social.session.client("dynamodb"), "cs-platform-local-main"))
    second, created = racer.resolve("whatsapp", "15550009999")
    assert not created and second.customer_id == first.customer_id
    assert [i.external_id for i in store.for_customer(first.customer_id)] == ["15550009999"]
