"""Escalation → routing → offer → accept → reply → resolve → CSAT, with the forbidden paths."""

from __future__ import annotations

from support import agent_token


def _escalated(desk, customer: str, text: str = "I need help", **claims):
    conn = desk.connect_customer(customer, **claims)
    ack = desk.say(conn, text, f"{customer}-1")
    desk.lam.send(conn, {"action": "requestHuman", "client_msg_id": "h1", "language": "en"})
    assert desk.frames(conn, "escalation")[-1]["conversation_id"] == ack["conversation_id"]
    return conn, ack["conversation_id"]


def test_customer_request_is_routed_to_the_agent_with_skill_and_language(desk):
    desk.connect_agent("fr", desk.agent("fr", languages=["fr"]))
    general = desk.connect_agent("gen", desk.agent("gen", languages=["en"]))
    customer, conversation = _escalated(desk, "alice", name="Alice")
    assert desk.drain()["batchItemFailures"] == []

    offers = desk.frames(general, "offer")
    assert [o["conversation_id"] for o in offers] == [conversation]
    assert offers[0]["customer"]["name"] == "Alice" and offers[0]["expires_ms"] > 0
    assert desk.frames("ag-fr", "offer") == []

    desk.lam.send(general, {"action": "accept", "conversation_id": conversation})
    assigned = desk.frames(general, "assigned")[-1]
    assert assigned["customer"]["customer_id"] == "alice"
    assert [m["text"] for m in assigned["transcript"] if m["sender"]["type"] == "customer"] == ["I need help"]
    assert any(m["text"].startswith("Gen has joined") for m in
               (f["message"] for f in desk.frames(customer, "message")))

    # the customer's next message reaches the agent's socket; the agent's reply reaches the customer
    desk.say(customer, "my order is late", "alice-2")
    relayed = [f["message"]["text"] for f in desk.frames(general, "message")]
    assert "my order is late" in relayed
    desk.lam.send(general, {"action": "reply", "conversation_id": conversation, "client_msg_id": "r1",
                            "text": "Let me check"})
    assert desk.frames(general, "ack")[-1]["conversation_id"] == conversation
    desk.lam.send(general, {"action": "assist", "conversation_id": conversation})  # AI assist: no KB trained here
    assist = desk.frames(general, "suggestions")[-1]
    assert assist["conversation_id"] == conversation and assist["suggestions"] == []
    desk.lam.send(customer, {"action": "assist", "conversation_id": conversation})
    assert desk.frames(customer, "error")[-1]["code"] == "forbidden"
    got = [f["message"] for f in desk.frames(customer, "message")]
    assert any(m["text"] == "Let me check" and m["sender"]["type"] == "agent" for m in got)

    desk.lam.send(general, {"action": "resolve", "conversation_id": conversation})
    assert desk.frames(general, "resolved")[-1]["csat_requested"] is True
    survey = [m for m in (f["message"] for f in desk.frames(customer, "message")) if "rate" in (m.get("text") or "")]
    assert survey, "the customer is asked for a rating"
    desk.lam.send(customer, {"action": "rate", "score": 5, "comment": "great"})
    rated = desk.frames(customer, "rated")[-1]
    assert rated["score"] == 5 and rated["conversation_id"] == conversation

    status, context = desk.rest("GET", f"/agent/conversations/{conversation}", desk.admin)
    assert status == 200 and context["rating"]["agent_id"] == "gen" and context["conversation"]["status"] == "closed"
    status, agents = desk.rest("GET", "/supervisor/agents", desk.admin)
    assert {a["agent_id"]: a["load"] for a in agents} == {"fr": 0, "gen": 0}


def test_text_answer_to_the_survey_is_recorded(desk):
    agent = desk.connect_agent("amy", desk.agent("amy"))
    customer, conversation = _escalated(desk, "bob")
    desk.drain()
    desk.lam.send(agent, {"action": "accept", "conversation_id": conversation})
    desk.lam.send(agent, {"action": "resolve", "conversation_id": conversation})
    desk.say(customer, "4", "bob-2")  # a quick-reply answer arrives as text in a new conversation
    desk.say(customer, "9", "bob-3")  # then the NPS question is answered
    _status, context = desk.rest("GET", f"/agent/conversations/{conversation}", desk.admin)
    assert context["rating"]["score"] == 4 and context["rating"]["nps"] == 9


def test_notes_are_private_and_canned_responses_fill_placeholders(desk):
    agent = desk.connect_agent("amy", desk.agent("amy"))
    assert desk.rest("PUT", "/admin/canned/hello", desk.admin,
                     {"title": "Hello", "text": "Hi {customer_name}, I am {agent_name}. {unknown}"})[0] == 200
    customer, conversation = _escalated(desk, "carol", name="Carol")
    desk.drain()
    desk.lam.send(agent, {"action": "accept", "conversation_id": conversation})
    desk.lam.send(agent, {"action": "note", "conversation_id": conversation, "client_msg_id": "n1",
                          "text": "customer seems upset"})
    assert desk.frames(agent, "ack")[-1]["visibility"] == "internal"
    desk.lam.send(agent, {"action": "reply", "conversation_id": conversation, "client_msg_id": "r1",
                          "canned_id": "hello"})
    texts = [f["message"].get("text") for f in desk.frames(customer, "message")]
    assert "Hi Carol, I am Amy. {unknown}" in texts
    assert "customer seems upset" not in texts
    desk.lam.send(customer, {"action": "history", "after_seq": 0})
    history = desk.frames(customer, "history")[-1]["messages"]
    assert all(m.get("visibility", "public") == "public" for m in history)
    assert "customer seems upset" not in [m.get("text") for m in history]
    # the agent sees it, with its visibility
    _, context = desk.rest("GET", f"/agent/conversations/{conversation}", agent_token("amy"))
    assert any(m["text"] == "customer seems upset" and m["visibility"] == "internal" for m in context["transcript"])


def test_forbidden_paths(desk):
    amy = desk.agent("amy", capacity=1)
    ben = desk.agent("ben")
    supervisor = desk.agent("sue", role="supervisor")
    desk.connect_agent("amy", amy)
    customer, conversation = _escalated(desk, "dave")
    desk.drain()
    other_customer, other = _escalated(desk, "erin")
    desk.drain()  # amy's capacity is 1 below: erin waits in the queue

    # customers: no agent REST with a customer token, no agent frames, no other's conversation
    from support import customer_token

    assert desk.rest("GET", "/agent/work", customer_token("dave"))[0] == 403
    assert desk.rest("GET", "/agent/work", None)[0] == 401
    desk.lam.send(customer, {"action": "accept", "conversation_id": conversation})
    desk.lam.send(customer, {"action": "note", "conversation_id": conversation, "client_msg_id": "x", "text": "x"})
    assert [e["code"] for e in desk.frames(customer, "error")] == ["forbidden", "forbidden"]
    desk.lam.send(customer, {"action": "history", "conversation_id": other})
    assert desk.frames(customer, "error")[-1]["code"] == "forbidden"
    desk.lam.send(other_customer, {"action": "rate", "conversation_id": conversation, "score": 1})
    assert desk.frames(other_customer, "error")[-1]["code"] in ("forbidden", "nothing_to_rate")

    # agents: only what is offered/assigned to them; no admin or supervisor paths
    assert desk.rest("GET", f"/agent/conversations/{conversation}", ben)[0] == 403
    assert desk.rest("POST", f"/agent/conversations/{conversation}/accept", ben)[0] == 403
    assert desk.rest("POST", f"/agent/conversations/{conversation}/messages", amy,
                     {"client_msg_id": "m", "text": "not yet accepted"})[0] == 403
    assert desk.rest("PUT", "/admin/agents/mallory", amy, {"name": "M", "role": "admin"})[0] == 403
    assert desk.rest("PUT", "/admin/agents/mallory", supervisor, {"name": "M"})[0] == 403
    assert desk.rest("GET", "/supervisor/queue", amy)[0] == 403
    assert desk.rest("POST", f"/agent/conversations/{other}/escalate", amy, {})[0] == 403
    # an agent token signed with the customer secret is refused; an unregistered agent cannot connect
    assert desk.rest("GET", "/agent/work", customer_token("root", role="admin"))[0] == 403
    assert desk.lam.connect("ag-ghost", agent_token("ghost"), **{"as": "agent"})["statusCode"] == 403
    # supervisors see the queue and every agent's load
    status, queue = desk.rest("GET", "/supervisor/queue", supervisor)
    assert status == 200 and [q["conversation_id"] for q in queue] == [other]
    assert desk.rest("GET", f"/agent/conversations/{other}", supervisor)[0] == 200
    # bad input is a JSON 400
    status, body = desk.rest("PUT", "/admin/agents/x", desk.admin, {"name": "X", "capacity": 0})
    assert status == 400 and body["code"] == "invalid_input"


def test_offer_timeout_passes_the_offer_on(desk):
    desk.config(offer_timeout_seconds=30)
    first = desk.connect_agent("amy", desk.agent("amy"))
    _, conversation = _escalated(desk, "fay")
    desk.drain()
    assert desk.frames(first, "offer")[-1]["conversation_id"] == conversation
    second = desk.connect_agent("ben", desk.agent("ben"))  # comes online: nothing waiting
    assert desk.frames(second, "offer") == []

    import time

    from chalicelib import ids

    ids.set_clock(lambda: time.time() + 31)  # the offer's 30 s pass without a slow test (or a flaky one)
    try:
        result = desk.sweep()
    finally:
        ids.set_clock(None)
    assert result["offers_expired"] == 1
    assert desk.frames(first, "offer_revoked")[-1]["conversation_id"] == conversation
    assert desk.frames(second, "offer")[-1]["conversation_id"] == conversation
    # the first agent can no longer accept; the second can
    desk.lam.send(first, {"action": "accept", "conversation_id": conversation})
    assert desk.frames(first, "error")[-1]["code"] == "not_offered"
    desk.lam.send(second, {"action": "accept", "conversation_id": conversation})
    assert desk.frames(second, "assigned")
    _, agents = desk.rest("GET", "/supervisor/agents", desk.admin)
    assert {a["agent_id"]: a["load"] for a in agents} == {"amy": 0, "ben": 1}


def test_transfer_to_agent_and_to_team(desk):
    assert desk.rest("PUT", "/admin/teams/billing", desk.admin, {"name": "Billing"})[0] == 200
    amy = desk.connect_agent("amy", desk.agent("amy"))
    ben = desk.connect_agent("ben", desk.agent("ben"))
    bill = desk.connect_agent("bill", desk.agent("bill", team="billing"))
    desk.lam.send(bill, {"action": "setStatus", "status": "away"})
    customer, conversation = _escalated(desk, "gus")
    desk.drain()
    holder = next(c for c in (amy, ben) if desk.frames(c, "offer"))
    other = ben if holder == amy else amy
    desk.lam.send(holder, {"action": "accept", "conversation_id": conversation})

    desk.lam.send(holder, {"action": "transfer", "conversation_id": conversation, "to_agent": other[3:],
                           "note": "knows the case"})
    assert desk.frames(other, "offer")[-1]["conversation_id"] == conversation
    desk.lam.send(other, {"action": "accept", "conversation_id": conversation})
    _, context = desk.rest("GET", f"/agent/conversations/{conversation}", agent_token(other[3:]))
    assert context["conversation"]["assigned_agent"] == other[3:]
    assert any(m.get("visibility") == "internal" and "knows the case" in m["text"] for m in context["transcript"])
    # the previous holder lost access
    assert desk.rest("GET", f"/agent/conversations/{conversation}", agent_token(holder[3:]))[0] == 403

    desk.lam.send(other, {"action": "transfer", "conversation_id": conversation, "to_team": "billing"})
    assert desk.frames(bill, "offer") == []  # away: waits in the billing queue
    desk.lam.send(bill, {"action": "setStatus", "status": "online"})
    assert desk.frames(bill, "offer")[-1]["conversation_id"] == conversation
    assert all(f["message"].get("visibility", "public") == "public" for f in desk.frames(customer, "message"))


def test_out_of_hours_posts_the_offline_message_and_opens_a_ticket(desk):
    desk.config(business_hours={"timezone": "UTC", "days": {}})  # never open
    desk.connect_agent("amy", desk.agent("amy"))
    customer, conversation = _escalated(desk, "hal")
    desk.drain()
    texts = [f["message"]["text"] for f in desk.frames(customer, "message")]
    assert any("closed" in t for t in texts)
    _status, tickets = desk.rest("GET", "/tickets?status=new", desk.admin)
    assert [t["conversation_id"] for t in tickets] == [conversation]
    assert tickets[0]["source"] == "offline_escalation"
    desk.drain()
    assert len(desk.rest("GET", "/tickets?status=new", desk.admin)[1]) == 1


def test_malformed_and_redelivered_escalations(desk):
    agent = desk.connect_agent("amy", desk.agent("amy"))
    _, _conversation = _escalated(desk, "ivy")
    result = desk.drain(duplicate=True)  # every record twice in one batch
    assert result["batchItemFailures"] == []
    assert len(desk.frames(agent, "offer")) == 1
    answer = desk.app.route_escalations({"Records": [desk.record("{not json", "bad-1")]}, None)
    assert answer == {"batchItemFailures": []}  # dropped, never retried
