"""Issue 16, privacy rights: the export holds every item stored about the customer; after erasure a scan
of the table and of the analytics bucket finds none of their identifiers; an erasure cut short halfway
is finished by calling it again; consent is opt-in per channel."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

import pytest
from analytics_flow import archive, stream_records
from support import agent_token

from .social_support import user_of

ADMIN = agent_token("root", "admin")
# Items that are copies or delivery bookkeeping of what the export already holds (a message's
# idempotency copy, its send markers and platform-id index) are not exported, but they are erased.
COPIES = ("DEDUP#", "OUTBOX#", "PLATFORMMSG#")


def _rest(social: Any, method: str, path: str, body: Any = None, token: str = ADMIN) -> tuple[int, Any]:
    response = getattr(social.client.http, method.lower())(
        path, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        body=json.dumps(body) if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None


def _customer_with_history(social: Any) -> dict[str, Any]:
    """A WhatsApp customer with messages, an agent reply delivered, a ticket answered, consent, an audited read,
    and their interaction events archived in the bucket."""
    from chalicelib import services as composition

    user = user_of("whatsapp")
    social.send_text("whatsapp", "Hello, my email is ana.fake@example.com and order 1234 never came", user=user)
    customer_id = social.customer_of("whatsapp", user)
    conversation_id = social.open_conversation(customer_id)
    social.agent_reply(conversation_id, "Sorry Ana, I am looking into order 1234")
    social.drain_outbound()
    assert _rest(social, "PUT", f"/customers/{customer_id}/consent/whatsapp", {"granted": True})[0] == 200
    status, ticket = _rest(social, "POST", "/tickets", {"subject": "Order 1234 missing", "customer_id": customer_id,
                                                        "conversation_id": conversation_id, "channel": "whatsapp"})
    assert status == 201
    _rest(social, "PATCH", f"/tickets/{ticket['ticket_id']}", {"comment": "Resent today, Ana", "public": True,
                                                                "status": "solved"})
    social.drain_outbound()
    social.send_text("whatsapp", "solved", user=user)
    social.drain_outbound()
    assert _rest(social, "GET", f"/customers/{customer_id}")[0] == 200  # audited reads
    assert _rest(social, "GET", f"/customers/lookup?channel=whatsapp&external_id={user}")[0] == 200
    archive(social.app, stream_records(social.session)[1])
    services = composition.services()
    identity = services.identity_store.get("whatsapp", user)
    assert identity is not None
    return {"customer_id": customer_id, "user": user, "ticket_id": ticket["ticket_id"],
            "name": identity.profile_name or "Ana Fake", "email": "ana.fake@example.com",
            "pid": services.privacy.pseudonym(customer_id)}


def _scan(social: Any) -> list[dict[str, Any]]:
    from chalicelib.store.codec import decode

    client = social.session.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=os.environ["TABLE_NAME"]):
        items += [decode(i) for i in page["Items"]]
    return items


def _bucket_texts(social: Any) -> dict[str, str]:
    from chalicelib import services as composition

    s3 = social.session.client("s3")
    bucket = composition.services().bucket_name
    texts = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            texts[obj["Key"]] = (gzip.decompress(body) if obj["Key"].endswith(".gz") else body).decode("utf-8",
                                                                                                       "replace")
    return texts


def _identifiers(who: dict[str, Any]) -> list[str]:
    return [who["customer_id"], who["user"], who["pid"], who["email"], who["name"]]


def _mentions(item: Any, needles: list[str]) -> bool:
    text = json.dumps(item, ensure_ascii=False, default=str)
    return any(n in text for n in needles)


def _normal(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):  # a DynamoDB set is a list in the JSON export
        return sorted(value)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _all_dicts(value: Any) -> list[Any]:
    found = []
    if isinstance(value, dict):
        found.append(_normal(value))
        for v in value.values():
            found += _all_dicts(v)
    elif isinstance(value, list):
        for v in value:
            found += _all_dicts(v)
    return found


def _owned(items: list[dict[str, Any]], who: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item that names the customer, lives in one of their conversations or tickets, or is about one of
    their messages (send markers, platform-id index)."""
    conversations = {i["conversation_id"] for i in items if i["sk"] == "META" and i["pk"].startswith("CONV#")
                     and i.get("customer_id") == who["customer_id"]}
    messages = {i["message_id"] for i in items if i.get("type") == "message" and i["conversation_id"] in conversations}
    partitions = ({f"CONV#{c}" for c in conversations} | {f"TICKET#{who['ticket_id']}"}
                  | {f"OUTBOX#{m}" for m in messages})
    return [i for i in items if i["pk"] in partitions or i.get("conversation_id") in conversations
            or _mentions(i, _identifiers(who))]


def test_export_contains_every_item_the_customer_has_and_erasure_leaves_no_identifier(social):
    who = _customer_with_history(social)
    other = user_of("telegram", 2)
    social.send_text("telegram", "I am somebody else", user=other)  # must survive the erasure untouched
    owned = _owned(_scan(social), who)
    kinds = {i["pk"].split("#")[0] for i in owned}
    assert {"CUST", "CONV", "IDENTITY", "TICKET", "ACCESS", "DEDUP", "OUTBOX", "PLATFORMMSG"} <= kinds

    status, export = _rest(social, "GET", f"/customers/{who['customer_id']}/export")
    assert status == 200, export
    exported = _all_dicts(export)
    strip = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "expires_at", "dedup_ref")
    missing = [(i["pk"], i["sk"]) for i in owned if not i["pk"].startswith(COPIES)
               and _normal({k: v for k, v in i.items() if k not in strip}) not in exported]
    assert missing == []
    assert [i["channel"] for i in export["identities"]] == ["whatsapp"]
    assert export["consent"]["current"][0]["granted"] is True
    assert export["tickets"][0]["ticket"]["status"] == "closed"
    events = export["analytics"]["events"]
    assert events and {e["customer_pid"] for e in events} == {who["pid"]}
    assert {"message_in", "message_out", "ticket_change", "ticket_confirmation"} <= {e["event_type"] for e in events}
    # the export itself is an audited read
    _, log = _rest(social, "GET", f"/customers/{who['customer_id']}/access-log")
    assert log["entries"][0]["action"] == "export" and log["entries"][0]["actor_id"] == "root"

    status, record = _rest(social, "DELETE", f"/customers/{who['customer_id']}",
                           {"reason": "erasure request from ana.fake@example.com"})
    assert status == 200, record
    assert record["status"] == "completed" and record["already_erased"] is False
    assert "ana.fake@example.com" not in json.dumps(record)

    needles = _identifiers(who)
    assert [(i["pk"], i["sk"]) for i in _scan(social) if _mentions(i, needles)] == []
    assert [k for k, text in _bucket_texts(social).items() if any(n in text for n in needles)] == []
    # what is not theirs is untouched; the ticket stays, anonymised; archived figures stay
    assert social.customer_of("telegram", other)
    _, ticket = _rest(social, "GET", f"/tickets/{who['ticket_id']}")
    assert ticket["subject"] == "[erased]" and ticket.get("customer_id") is None
    texts = _bucket_texts(social)
    archived = [json.loads(line) for k, t in texts.items() if k.startswith("events/") for line in t.splitlines()]
    assert len([e for e in archived if e["event_type"] == "ticket_confirmation"]) >= 2

    # the stream still holds their events for 24 h: a replay archives them again; a repeated DELETE rewrites them
    archive(social.app, stream_records(social.session)[1])
    assert any(who["pid"] in text for text in _bucket_texts(social).values())
    status, again = _rest(social, "DELETE", f"/customers/{who['customer_id']}", {"reason": "repeated request"})
    assert status == 200 and again["already_erased"] is True and again["erasure_id"] == record["erasure_id"]
    assert [k for k, text in _bucket_texts(social).items() if any(n in text for n in needles)] == []
    assert _rest(social, "GET", f"/customers/{who['customer_id']}/export")[0] == 404


def test_an_erasure_cut_short_halfway_is_finished_by_the_retry(social, monkeypatch: pytest.MonkeyPatch):
    from chalicelib import services as composition

    who = _customer_with_history(social)
    table = composition.services().table
    real_delete = table.delete_item
    calls = {"n": 0}

    def throttled_after_some(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 6:  # halfway through the conversation's items, DynamoDB gives up
            raise RuntimeError("ProvisionedThroughputExceededException")
        return real_delete(**kwargs)

    monkeypatch.setattr(table, "delete_item", throttled_after_some)
    status, _ = _rest(social, "DELETE", f"/customers/{who['customer_id']}", {"reason": "customer asked"})
    assert status == 500
    record = composition.services().privacy.erasure(who["customer_id"])
    assert record is not None and record.status == "in_progress"
    assert "analytics" in record.steps_done and "customer" not in record.steps_done
    assert any(_mentions(i, [who["customer_id"]]) for i in _scan(social))  # half done

    monkeypatch.setattr(table, "delete_item", real_delete)
    status, record_json = _rest(social, "DELETE", f"/customers/{who['customer_id']}", {"reason": "customer asked"})
    assert status == 200 and record_json["status"] == "completed" and record_json["attempts"] == 2
    needles = _identifiers(who)
    assert [(i["pk"], i["sk"]) for i in _scan(social) if _mentions(i, needles)] == []
    assert [k for k, text in _bucket_texts(social).items() if any(n in text for n in needles)] == []


def test_consent_is_opt_in_per_channel_and_an_opt_out_on_all_wins(social):
    from chalicelib import services as composition

    consent = composition.services().consent
    assert consent.may_market("c-1", "whatsapp") is False  # nothing recorded: no marketing
    assert _rest(social, "PUT", "/customers/c-1/consent/whatsapp", {"granted": True, "note": "signed up"})[0] == 200
    assert consent.may_market("c-1", "whatsapp") is True
    assert consent.may_market("c-1", "wechat") is False
    consent.record("c-1", "all", False, "keyword")  # "STOP" on any channel
    assert consent.may_market("c-1", "whatsapp") is False
    consent.record("c-1", "whatsapp", True, "customer")  # opted in again later, on WhatsApp
    assert consent.may_market("c-1", "whatsapp") is True
    assert [r.source for r in consent.history("c-1")] == ["backend", "keyword", "customer"]
    assert _rest(social, "PUT", "/customers/c-1/consent/whatsapp", {"granted": True},
                 token=agent_token("amy", "agent"))[0] == 403
    assert _rest(social, "PUT", "/customers/c-1/consent/What%20App", {"granted": True})[0] == 400
    status, listed = _rest(social, "GET", "/customers/c-1/consent")
    assert status == 200 and {c["channel"] for c in listed["consent"]} == {"whatsapp", "all"}
