"""End to end on the local stack: customer asks for a human → SQS → routing → the agent with the
right skill and language accepts and replies → the customer receives it → resolve → CSAT recorded."""

from __future__ import annotations

import json
import time

import requests
from websockets.sync.client import connect

from local.token import mint

TIMEOUT = 20


def _until(ws, frame_type: str, predicate=lambda f: True) -> dict:
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.time())))
        if frame.get("type") == frame_type and predicate(frame):
            return frame
    raise AssertionError(f"no {frame_type} frame")


def test_customer_to_agent_and_back(local_stack):
    admin = {"Authorization": f"Bearer {mint('agent', 'e2e-root', role='admin')}"}
    http = local_stack.http
    for agent_id, languages in (("e2e-zh", ["zh"]), ("e2e-en", ["en"])):
        r = requests.put(f"{http}/admin/agents/{agent_id}", headers=admin, timeout=TIMEOUT,
                         json={"name": agent_id, "skills": ["billing"], "languages": languages, "capacity": 2})
        assert r.status_code == 200, r.text
    agent_ws = f"{local_stack.ws}/?token={mint('agent', 'e2e-en')}&as=agent"
    customer_ws = f"{local_stack.ws}/?token={mint('customer', 'e2e-kim', name='Kim')}"
    with connect(agent_ws) as agent, connect(customer_ws) as customer:
        agent.send(json.dumps({"action": "setStatus", "status": "online"}))
        assert _until(agent, "status")["status"] == "online"
        customer.send(json.dumps({"action": "sendMessage", "client_msg_id": "k1", "text": "my invoice is wrong"}))
        conversation = _until(customer, "ack")["conversation_id"]
        customer.send(json.dumps({"action": "requestHuman", "client_msg_id": "k2", "language": "en"}))
        assert _until(customer, "escalation")["conversation_id"] == conversation

        started = time.perf_counter()
        offer = _until(agent, "offer", lambda f: f["conversation_id"] == conversation)
        print(f"\nrequestHuman -> offer over SQS: {time.perf_counter() - started:.2f}s")
        agent.send(json.dumps({"action": "accept", "conversation_id": offer["conversation_id"]}))
        assigned = _until(agent, "assigned")
        assert any(m.get("text") == "my invoice is wrong" for m in assigned["transcript"])

        agent.send(json.dumps({"action": "reply", "conversation_id": conversation, "client_msg_id": "a1",
                               "text": "I will fix it"}))
        got = _until(customer, "message", lambda f: f["message"]["sender"]["type"] == "agent")
        assert got["message"]["text"] == "I will fix it"
        customer.send(json.dumps({"action": "sendMessage", "client_msg_id": "k3", "text": "thanks"}))
        assert _until(agent, "message", lambda f: f["message"].get("text") == "thanks")

        agent.send(json.dumps({"action": "resolve", "conversation_id": conversation}))
        _until(agent, "resolved")
        survey = _until(customer, "message", lambda f: "csat" in json.dumps(f["message"]) or
                        "rate" in (f["message"].get("text") or ""))
        assert survey
        customer.send(json.dumps({"action": "rate", "score": 5, "nps": 10}))
        assert _until(customer, "rated")["score"] == 5

    context = requests.get(f"{http}/agent/conversations/{conversation}", headers=admin, timeout=TIMEOUT).json()
    assert context["rating"]["score"] == 5 and context["rating"]["agent_id"] == "e2e-en"
