"""Knowledge-base REST API: CRUD, versions, import/export (JSON and CSV), authorization, retraining jobs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from kbdata import TINY_KB
from support import ROOT, agent_token, customer_token


@pytest.fixture
def client(app_module: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as c:
        yield c


@pytest.fixture
def jobs(aws: Any):
    """The train jobs on the training queue (drained on each call)."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["TRAINING_QUEUE_NAME"])["QueueUrl"]

    def drain() -> list[dict]:
        out = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return out
            for m in messages:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    return drain


def _h(token: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", **extra}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


ADMIN = agent_token("ada", "admin")
SUPERVISOR = agent_token("sam", "supervisor")
AGENT = agent_token("al", "agent")
ENTRY = TINY_KB["intents"]["track_order"]


def _put(client, name: str, body: dict, token: str = ADMIN, **headers: str):
    return client.http.put(f"/kb/intents/{name}", headers=_h(token, **headers), body=json.dumps(body))


def test_crud_bumps_the_version_and_queues_a_retraining_job(client, jobs):
    created = _put(client, "track_order", ENTRY)
    assert created.status_code == 200, created.body
    assert created.json_body["version"] == 1 and created.json_body["training_queued"] is True

    updated = _put(client, "track_order", {**ENTRY, "answers": {"en": "See My orders.", "zh": "见我的订单。"}},
                   token=SUPERVISOR)
    got = client.http.get("/kb/intents/track_order", headers=_h(AGENT)).json_body
    assert updated.json_body["version"] == 2
    assert got["answers"] == {"en": "See My orders.", "zh": "见我的订单。"} and got["kb_version"] == 2
    assert got["updated_by"] == "sam" and got["tags"] == ["orders"] and got["enabled"] is True

    deleted = client.http.delete("/kb/intents/track_order", headers=_h(ADMIN))
    assert deleted.json_body["version"] == 3
    assert client.http.get("/kb/intents/track_order", headers=_h(AGENT)).status_code == 404
    assert [j["version"] for j in jobs()] == [1, 2, 3]
    listing = client.http.get("/kb", headers=_h(AGENT)).json_body
    assert listing["version"] == 3 and listing["intents"] == [] and listing["model"] is None


def test_if_match_detects_a_concurrent_change(client):
    _put(client, "track_order", ENTRY)

    stale = _put(client, "store_hours", TINY_KB["intents"]["store_hours"], **{"If-Match": "0"})
    fresh = _put(client, "store_hours", TINY_KB["intents"]["store_hours"], **{"If-Match": "1"})

    assert stale.status_code == 409
    assert stale.json_body["code"] == "version_conflict" and stale.json_body["details"]["current_version"] == 1
    assert fresh.status_code == 200 and fresh.json_body["version"] == 2


UNAUTHORISED = [
    (None, 401, "token_missing"),
    (customer_token("alice"), 403, "token_invalid"),  # a customer's token is not signed with the agent secret
    (AGENT, 403, "role_forbidden"),
    (agent_token("x", "admin", secret="someone-elses-secret-0123456789abcd"), 403, "token_invalid"),
]


def test_customers_and_plain_agents_cannot_write(client, jobs):
    for token, status, code in UNAUTHORISED:
        responses = [
            _put(client, "track_order", ENTRY, token=token),
            client.http.delete("/kb/intents/track_order", headers=_h(token)),
            client.http.post("/kb/import", headers=_h(token), body=json.dumps(TINY_KB)),
            client.http.post("/kb/import/csv", headers=_h(token), body=json.dumps({"examples_csv": "text,label\n"})),
            client.http.post("/kb/train", headers=_h(token), body="{}"),
        ]
        for response in responses:
            assert (response.status_code, response.json_body["code"]) == (status, code), token
    assert client.http.get("/kb", headers=_h(ADMIN)).json_body["version"] == 0
    assert jobs() == []


def test_customers_cannot_read_the_kb(client):
    assert client.http.get("/kb", headers=_h(customer_token("alice"))).status_code == 403
    assert client.http.get("/kb/export", headers=_h()).status_code == 401


INVALID = [
    ("track_order", {"examples": [], "answers": {"en": "x"}}, "invalid_input"),
    ("track_order", {"examples": ["where is it"], "answers": {}}, "invalid_input"),
    ("track_order", {"examples": ["x"], "answers": {"en": "x"}, "colour": "red"}, "invalid_input"),
    ("Track Order!", ENTRY, "invalid_intent_name"),
]


def test_invalid_entries_are_rejected_with_details(client):
    for name, body, code in INVALID:
        response = _put(client, name, body)
        assert response.status_code == 400, body
        assert response.json_body["code"] == code and response.json_body["message"]
        if code == "invalid_input":
            assert response.json_body["details"][0]["msg"]
    assert client.http.get("/kb", headers=_h(ADMIN)).json_body["version"] == 0


def test_disabled_entry_needs_no_answer(client):
    assert _put(client, "draft", {"examples": [], "enabled": False}).status_code == 200


def test_json_import_export_round_trip_and_replace(client, jobs):
    imported = client.http.post("/kb/import", headers=_h(ADMIN), body=json.dumps(TINY_KB))
    assert imported.json_body == {"version": 1, "written": 4, "deleted": 0, "training_queued": True}

    exported = client.http.get("/kb/export", headers=_h(AGENT)).json_body
    assert exported["version"] == 1 and set(exported["intents"]) == set(TINY_KB["intents"])
    assert exported["intents"]["track_order"]["examples"] == ENTRY["examples"]

    only_two = {"intents": {k: TINY_KB["intents"][k] for k in ("track_order", "store_hours")}, "replace": True}
    replaced = client.http.post("/kb/import", headers=_h(SUPERVISOR), body=json.dumps(only_two)).json_body
    assert replaced == {"version": 2, "written": 2, "deleted": 2, "training_queued": True}
    names = [i["name"] for i in client.http.get("/kb", headers=_h(AGENT)).json_body["intents"]]
    assert names == ["store_hours", "track_order"]
    assert [j["version"] for j in jobs()] == [1, 2]


def test_csv_import_and_export(client):
    examples = "text,label\n我的订单到哪了,track_order\nwhere is my order,track_order\n几点开门,store_hours\n" \
               "今天天气,oos\n"
    answers = "intent,answer_zh,answer_en,tags\ntrack_order,见我的订单,See My orders,orders;shipping\n" \
              "store_hours,10点开门,We open at 10,stores\n"

    response = client.http.post("/kb/import/csv", headers=_h(ADMIN),
                                body=json.dumps({"examples_csv": examples, "answers_csv": answers}))

    assert response.status_code == 200 and response.json_body["written"] == 2
    entry = client.http.get("/kb/intents/track_order", headers=_h(AGENT)).json_body
    assert entry["examples"] == ["我的订单到哪了", "where is my order"]
    assert entry["answers"] == {"zh": "见我的订单", "en": "See My orders"} and entry["tags"] == ["orders", "shipping"]
    csv_examples = client.http.get("/kb/export?format=examples_csv", headers=_h(AGENT))
    assert csv_examples.headers["Content-Type"].startswith("text/csv")
    assert csv_examples.body.decode().splitlines() == [
        "text,label", "几点开门,store_hours", "我的订单到哪了,track_order", "where is my order,track_order"]
    csv_answers = client.http.get("/kb/export?format=answers_csv", headers=_h(AGENT)).body.decode().splitlines()
    assert csv_answers[0] == "intent,answer_zh,answer_en,title_zh,title_en,tags,enabled"
    assert "track_order,见我的订单,See My orders,,,orders;shipping,true" in csv_answers


def test_csv_without_answers_for_an_intent_is_rejected(client):
    response = client.http.post("/kb/import/csv", headers=_h(ADMIN),
                                body=json.dumps({"examples_csv": "text,label\nwhere is it,track_order\n"}))
    assert response.status_code == 400 and response.json_body["code"] == "invalid_kb"
    assert response.json_body["details"]

    bad = client.http.post("/kb/import/csv", headers=_h(ADMIN), body=json.dumps({"examples_csv": "question\nx\n"}))
    assert bad.status_code == 400 and bad.json_body["code"] == "invalid_csv"


def test_manual_retrain_is_accepted(client, jobs):
    client.http.post("/kb/import", headers=_h(ADMIN), body=json.dumps(TINY_KB))
    jobs()
    response = client.http.post("/kb/train", headers=_h(ADMIN), body="{}")
    assert response.status_code == 202 and response.json_body == {"version": 1, "training_queued": True}
    assert [j["version"] for j in jobs()] == [1]
