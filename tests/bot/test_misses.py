"""Learning from misses (issue 14): misses recorded from the domain events, grouped, turned into KB examples."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import ROOT, agent_token, customer_token

from chalicelib import services as composition
from chalicelib.bot.training import ModelPointer, model_key
from chalicelib.core.models import MessageDraft, Sender

GIFT_CARDS = ["do you sell gift cards", "can I buy a gift card for my friend", "are gift cards available"]


@pytest.fixture
def trained(aws: Any, kb_model) -> Any:
    registry = composition.services().model_registry
    registry.publish(kb_model[1], ModelPointer(version=1, s3_key=model_key(1), trained_ms=1))
    return kb_model[0]


@pytest.fixture
def client(app_module: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as c:
        yield c


def _say(lam, connection_id: str, text: str, n: list[int] = [0]) -> None:  # noqa: B006 - a counter
    n[0] += 1
    lam.send(connection_id, {"action": "sendMessage", "client_msg_id": f"m{n[0]}", "text": text})


def _get(client, token: str | None, query: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.http.get(f"/kb/misses{query}", headers=headers)


def _post(client, token: str, cluster: str, body: dict[str, Any]) -> Any:
    return client.http.post(f"/kb/misses/{cluster}/assign", body=json.dumps(body),
                            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})


def _period() -> str:
    today = datetime.now(UTC).date()
    return f"?from={(today - timedelta(days=1)).isoformat()}&to={today.isoformat()}"


def _miss_items(table) -> list[dict[str, Any]]:
    return [i for i in table.scan()["Items"] if str(i["pk"]).startswith("MISSES#")]


def _ask_gift_cards(lam) -> None:
    for n, text in enumerate(GIFT_CARDS):
        connection = f"c{n}="
        lam.connect(connection, customer_token(f"gift-{n}"))
        _say(lam, connection, f"{text}? my number is 13812345678" if n == 0 else text)


def test_fallbacks_are_recorded_redacted_and_grouped_by_meaning_largest_first(lam, client, table, trained):
    _ask_gift_cards(lam)
    lam.connect("p=", customer_token("payer"))
    _say(lam, "p=", "can I pay with paypal")

    items = _miss_items(table)
    assert len(items) == 4
    assert all(set(i["kinds"]) <= {"fallback", "suggest", "handoff"} and i["kinds"] for i in items)
    stored = json.dumps([i["text"] for i in items])
    assert "13812345678" not in stored and "[PHONE]" in stored  # the analytics redaction
    first = next(i for i in items if "[PHONE]" in i["text"])
    assert first["channel"] == "app" and first["language"] == "en" and first["status"] == "open"

    response = _get(client, agent_token("ada", "admin"), _period())

    assert response.status_code == 200
    body = json.loads(response.body)
    assert body["misses"] == 4
    [largest, *rest] = body["clusters"]
    assert largest["count"] == 3 and {e.split("?")[0] for e in largest["examples"]} == set(GIFT_CARDS)
    assert [c["count"] for c in rest] == [1] and rest[0]["examples"] == ["can I pay with paypal"]
    assert largest["languages"] == {"en": 3} and largest["channels"] == {"app": 3}


def test_assign_adds_the_group_as_examples_of_a_new_intent_and_retraining_follows(lam, client, table, trained, aws):
    _ask_gift_cards(lam)
    admin = agent_token("ada", "admin")
    cluster = json.loads(_get(client, admin, _period()).body)["clusters"][0]

    response = _post(client, admin, cluster["id"], {
        "from": _period()[6:16], "to": datetime.now(UTC).date().isoformat(), "intent": "gift_cards",
        "answers": {"en": "Gift cards are sold in every store.", "zh": "所有门店都有礼品卡出售。"}})

    assert response.status_code == 200, response.body
    result = json.loads(response.body)
    assert result["created"] is True and result["examples_added"] == 3 and result["misses_assigned"] == 3
    assert result["training_queued"] is True
    entry = composition.services().kb_store.get("gift_cards")
    assert entry is not None and "can I buy a gift card for my friend" in entry.examples
    assert any("[PHONE]" in e for e in entry.examples)  # what was stored for review, never the number
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["TRAINING_QUEUE_NAME"])["QueueUrl"]
    [job] = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert job["version"] == result["version"] and job["reason"] == "misses_assigned"
    assert json.loads(_get(client, admin, _period()).body)["clusters"] == []  # assigned misses leave the list

    again = _post(client, admin, cluster["id"], {"intent": "gift_cards"})
    assert again.status_code == 409 and json.loads(again.body)["code"] == "cluster_changed"


def test_assign_to_an_existing_intent_appends_the_texts(lam, client, trained):
    from kbdata import TINY_KB

    from chalicelib.bot.kb import KnowledgeBaseDocument

    composition.services().kb_store.replace_all(KnowledgeBaseDocument.model_validate(TINY_KB), actor="t",
                                                replace=True)
    _ask_gift_cards(lam)
    admin = agent_token("ada", "admin")
    cluster = json.loads(_get(client, admin).body)["clusters"][0]

    response = _post(client, admin, cluster["id"], {"intent": "store_hours", "texts": ["are gift cards available"]})

    assert response.status_code == 200 and json.loads(response.body)["examples_added"] == 1
    entry = composition.services().kb_store.get("store_hours")
    assert entry is not None and entry.examples[-1] == "are gift cards available" and len(entry.examples) == 7
    missing = _post(client, admin, json.loads(_get(client, admin).body)["clusters"][0]["id"], {"intent": "nope"})
    assert missing.status_code == 404 and json.loads(missing.body)["code"] == "intent_not_found"


def test_misses_need_a_kb_writer(client, aws):
    assert _get(client, None).status_code == 401
    assert _get(client, agent_token("amy", "agent")).status_code == 403
    assert _get(client, customer_token("alice")).status_code in (401, 403)  # not an agent's token
    assert _get(client, agent_token("sam", "supervisor")).status_code == 200
    assert _post(client, agent_token("amy", "agent"), "c1", {"intent": "x"}).status_code == 403
    bad = _get(client, agent_token("ada", "admin"), "?from=2026-01-01&to=2026-12-31")
    assert bad.status_code == 400 and json.loads(bad.body)["code"] == "invalid_period"


def test_a_picked_suggestion_is_no_miss_but_an_ignored_one_is(lam, table, trained, monkeypatch):
    monkeypatch.setenv("BOT_ANSWER_THRESHOLD", "1.01")  # nothing is confident enough: always suggest
    composition.reset()
    lam.connect("a=", customer_token("alice"))
    lam.connect("b=", customer_token("bob"))

    _say(lam, "a=", "退款")
    _say(lam, "a=", "退款什么时候到账？")  # taps the quick reply
    _say(lam, "b=", "退款")
    _say(lam, "b=", "算了")  # ignores it

    items = _miss_items(table)
    bob = composition.services().conversations.open_conversation_id("bob")
    [picked] = [i for i in items if i.get("picked")]
    assert picked["text"] == "退款" and not picked.get("kinds")  # alice tapped a suggestion
    ignored = next(i for i in items if i["conversation_id"] == bob and i["text"] == "退款")
    assert set(ignored["kinds"]) == {"suggest"} and ignored["suggested"][0] == "退款什么时候到账？"
    assert not any(i["text"] == "退款什么时候到账？" for i in items)


def test_a_handoff_and_the_agents_answer_are_recorded_with_the_kb_answer_they_inserted(lam, table, trained):
    lam.connect("h=", customer_token("hank"))
    _say(lam, "h=", "my parcel arrived damaged, what can I do")
    lam.send("h=", {"action": "requestHuman", "reason": "wants a person", "language": "en"})
    conversation_id = composition.services().conversations.open_conversation_id("hank")
    assert conversation_id is not None

    composition.services().conversations.post(conversation_id, MessageDraft(
        sender=Sender(type="agent", id="amy", name="Amy"), channel="app",
        text="Sorry about that! You can return items within 7 days. Write to amy@example.com if needed."))
    lam.effects.drain()  # the message's effects run from the effects queue

    [item] = _miss_items(table)
    assert item["text"] == "my parcel arrived damaged, what can I do"
    assert "handoff" in item["kinds"] and "agent_answer" in item["kinds"]
    assert item["kb_answer_intent"] == "return_policy"
    [reply] = item["agent_replies"]
    assert "[EMAIL]" in reply and "amy@example.com" not in reply


def test_the_cli_lists_the_groups_and_assigns_one(lam, client, trained, monkeypatch, capsys):
    from chalicelib.cli import kb as kb_cli
    from chalicelib.cli import main

    def call(api: str, token: str | None, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        response = (client.http.get(path, headers=headers) if method == "GET"
                    else client.http.post(path, body=json.dumps(body), headers=headers))
        if response.status_code >= 400:
            raise kb_cli.ApiError(response.status_code, response.body.decode())
        return response.status_code, response.body

    monkeypatch.setattr(kb_cli, "call", call)
    _ask_gift_cards(lam)
    admin = agent_token("ada", "admin")

    assert main(["kb", "misses", "--token", admin]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 missed questions") and "    - do you sell gift cards" in out
    cluster = out.split("\n\n")[1].split()[0]

    assert main(["kb", "misses", "--assign", cluster, "--intent", "gift_cards", "--answer-en",
                 "Gift cards are sold in every store.", "--token", admin]) == 0
    assert json.loads(capsys.readouterr().out)["created"] is True
