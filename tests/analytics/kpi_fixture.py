"""A small hand-made set of interaction events and an independent pure-Python KPI computation."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from statistics import mean
from typing import Any

from chalicelib.analytics.events import parse_event

from ._support import T0, ev

DAY = 24 * 60
START = T0.replace(hour=0)  # 2024-05-06 00:00 UTC
END = START + timedelta(days=2)


def _msg(
    kind: str, conv: str, minutes: float, mid: str, sender: str, channel: str, customer: str, seq: int = 1
) -> dict[str, Any]:
    return ev(
        kind,
        conv,
        minutes,
        channel=channel,
        customer=customer,
        sender_type=sender,
        message_id=mid,
        seq=seq,
        text_length=20,
    )


def fixture_events() -> list[dict[str, Any]]:
    a = {"channel": "app", "customer": "u1"}
    b = {"channel": "wechat", "customer": "u2"}
    c = {"channel": "wechat", "customer": "u3"}
    d = {"channel": "whatsapp", "customer": "u1"}
    e = {"channel": "app", "customer": "u4"}
    p = {"channel": "app", "customer": "u9"}
    return [
        # A: bot answers and resolves
        _msg("message_in", "A", 0, "a1", "customer", **a),
        ev(
            "bot_decision",
            "A",
            0.1,
            message_id="a1",
            intent="refund",
            confidence=0.9,
            sentiment="neutral",
            action="answer",
            **a,
        ),
        _msg("message_out", "A", 0.5, "a2", "bot", **a, seq=2),
        ev("resolution", "A", 3, resolved_by="bot", handle_seconds=60, **a),
        ev("conversation_closed", "A", 4, **a),
        ev("csat", "A", 5, score=5, comment="fast, thanks", **a),
        ev("nps", "A", 5, score=10, **a),
        # B: handoff, queue, agent, transfer, resolution; SLA breach on ticket t1
        _msg("message_in", "B", 10, "b1", "customer", **b),
        ev(
            "bot_decision",
            "B",
            10.2,
            message_id="b1",
            intent="refund",
            confidence=0.4,
            action="handoff",
            sentiment="negative",
            reason="low confidence",
            **b,
        ),
        _msg("message_out", "B", 10.5, "b2", "bot", **b, seq=2),
        ev("handoff", "B", 11, reason="low confidence", **b),
        ev(
            "ticket_change", "B", 11, ticket_id="t1", from_status=None, to_status="open", priority="high", **b
        ),
        ev("queue_wait", "B", 12.5, wait_seconds=90, **b),
        ev("assignment", "B", 12.5, agent_id="ag1", wait_seconds=90, **b),
        ev("agent_reply", "B", 14, agent_id="ag1", message_id="b3", first_response=True, **b),
        ev("sla_breach", "B", 15, ticket_id="t1", kind="first_response", **b),
        ev("transfer", "B", 20, from_agent_id="ag1", to_agent_id="ag2", reason="billing", **b),
        ev("agent_reply", "B", 22, agent_id="ag2", message_id="b4", **b),
        ev("resolution", "B", 30, resolved_by="agent", agent_id="ag2", handle_seconds=600, **b),
        ev("ticket_change", "B", 30, ticket_id="t1", from_status="open", to_status="solved", **b),
        ev("conversation_closed", "B", 31, **b),
        ev("csat", "B", 32, score=2, **b),
        ev("nps", "B", 32, score=5, **b),
        # C: bot answers, customer abandons
        _msg("message_in", "C", 60, "c1", "customer", **c),
        ev(
            "bot_decision",
            "C",
            60.1,
            message_id="c1",
            intent="order_status",
            confidence=0.95,
            action="answer",
            **c,
        ),
        _msg("message_out", "C", 61, "c2", "bot", **c, seq=2),
        ev("conversation_closed", "C", 90, abandoned=True, **c),
        # D (next day): suggest, handoff, agent resolution, ticket reopened, resolution SLA breach
        _msg("message_in", "D", DAY + 30, "d1", "customer", **d),
        ev(
            "bot_decision",
            "D",
            DAY + 30.1,
            message_id="d1",
            intent="refund",
            confidence=0.7,
            action="suggest",
            **d,
        ),
        ev("handoff", "D", DAY + 31, reason="customer asked for human", **d),
        ev("queue_wait", "D", DAY + 31.5, wait_seconds=30, **d),
        ev("agent_reply", "D", DAY + 40, agent_id="ag1", message_id="d2", first_response=True, **d),
        ev("ticket_change", "D", DAY + 41, ticket_id="t2", to_status="open", **d),
        ev("ticket_change", "D", DAY + 50, ticket_id="t2", from_status="solved", to_status="reopened", **d),
        ev("sla_breach", "D", DAY + 55, ticket_id="t2", kind="resolution", **d),
        ev("resolution", "D", DAY + 60, resolved_by="agent", agent_id="ag1", handle_seconds=300, **d),
        ev("csat", "D", DAY + 61, score=4, **d),
        ev("nps", "D", DAY + 61, score=8, **d),
        # E (next day): two customer messages, bot resolves
        _msg("message_in", "E", DAY + 100, "e1", "customer", **e),
        _msg("message_in", "E", DAY + 101, "e2", "customer", **e, seq=2),
        ev(
            "bot_decision",
            "E",
            DAY + 100.1,
            message_id="e1",
            intent="order_status",
            confidence=0.88,
            action="answer",
            **e,
        ),
        _msg("message_out", "E", DAY + 100.25, "e3", "bot", **e, seq=3),
        ev("resolution", "E", DAY + 102, resolved_by="bot", handle_seconds=40, **e),
        ev("conversation_closed", "E", DAY + 103, **e),
        # previous period (2024-05-04/05) and after the window
        _msg("message_in", "F", -DAY, "f1", "customer", **p),
        ev(
            "bot_decision",
            "F",
            -DAY + 0.1,
            message_id="f1",
            intent="refund",
            confidence=0.8,
            action="answer",
            **p,
        ),
        ev(
            "bot_decision",
            "G",
            -DAY - 60,
            message_id="g1",
            intent="order_status",
            confidence=0.8,
            action="answer",
            **p,
        ),
        ev(
            "bot_decision",
            "G",
            -DAY - 50,
            message_id="g2",
            intent="order_status",
            confidence=0.8,
            action="answer",
            **p,
        ),
        ev(
            "bot_decision",
            "H",
            -2 * DAY + 600,
            message_id="h1",
            intent="delivery",
            confidence=0.6,
            action="fallback",
            **p,
        ),
        _msg("message_in", "Z", 3 * DAY, "z1", "customer", **p),
        ev("csat", "Z", 3 * DAY, score=1, **p),
    ]


def expected_kpis(raw: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, Any]:
    """The KPI definitions of chalicelib/analytics/sql, computed independently in Python."""
    events = {e.event_id: e for e in map(parse_event, raw)}.values()
    prev_start = start - (end - start)
    cur = [e for e in events if start <= e.ts < end]
    prev = [e for e in events if prev_start <= e.ts < start]
    near = [e for e in events if prev_start <= e.ts < end]
    of = lambda kind, evs=cur: [e for e in evs if e.event_type == kind]  # noqa: E731
    by_conv: dict[str, list] = defaultdict(list)
    for e in cur:
        by_conv[e.conversation_id].append(e)
    ts = lambda e: e.ts.timestamp()  # noqa: E731
    out: dict[str, Any] = {}

    channels = sorted({e.channel for e in cur})
    out["volume_by_channel"] = {
        ch: (
            len({e.conversation_id for e in of("message_in") if e.channel == ch}),
            sum(e.channel == ch for e in of("message_in")),
            sum(e.channel == ch for e in of("message_out")),
        )
        for ch in channels
    }
    hours = Counter((e.ts.replace(minute=0, second=0, microsecond=0), e.channel) for e in of("message_in"))
    out["volume_by_hour"] = dict(hours)
    out["volume_by_intent"] = {
        i: (
            sum(e.intent == i for e in of("bot_decision")),
            round(mean(e.confidence for e in of("bot_decision") if e.intent == i), 9),
        )
        for i in {e.intent for e in of("bot_decision")}
    }
    bot_frt, human_frt = [], []
    for evs in by_conv.values():
        ins = [ts(e) for e in evs if e.event_type == "message_in"]
        hos = [ts(e) for e in evs if e.event_type == "handoff"]
        conv_all = [e for e in near if e.conversation_id == evs[0].conversation_id]
        if ins:
            outs = [
                ts(e)
                for e in conv_all
                if e.event_type == "message_out" and e.sender_type == "bot" and ts(e) >= min(ins)
            ]
            if outs:
                bot_frt.append(min(outs) - min(ins))
        if hos:
            reps = [ts(e) for e in conv_all if e.event_type == "agent_reply" and ts(e) >= min(hos)]
            if reps:
                human_frt.append(min(reps) - min(hos))
    out["first_response"] = (len(bot_frt), mean(bot_frt), len(human_frt), mean(human_frt))
    res = of("resolution")
    out["handle_time"] = (
        len(res),
        mean(e.handle_seconds for e in res),
        mean(e.handle_seconds for e in res if e.resolved_by == "agent"),
    )
    rts = []
    for conv in {e.conversation_id for e in res}:
        first_res = min(ts(e) for e in res if e.conversation_id == conv)
        first_in = min(ts(e) for e in near if e.conversation_id == conv and e.event_type == "message_in")
        rts.append(first_res - first_in)
    out["resolution_time"] = (len(rts), mean(rts), max(rts))
    fcr = 0
    resolved = {e.conversation_id for e in res}
    for conv in resolved:
        evs = [e for e in near if e.conversation_id == conv]
        if (
            sum(e.event_type == "resolution" for e in evs) == 1
            and not any(e.event_type == "transfer" for e in evs)
            and not any(e.event_type == "ticket_change" and e.to_status == "reopened" for e in evs)
        ):
            fcr += 1
    out["fcr"] = (len(resolved), fcr, fcr / len(resolved))
    convs = [evs for evs in by_conv.values() if any(e.event_type == "message_in" for e in evs)]
    bot = [evs for evs in convs if any(e.event_type == "bot_decision" for e in evs)]
    esc = [evs for evs in convs if any(e.event_type == "handoff" for e in evs)]
    contained = [evs for evs in bot if not any(e.event_type == "handoff" for e in evs)]
    out["containment"] = (
        len(convs),
        len(bot),
        len(esc),
        len(contained),
        len(contained) / len(bot),
        len(esc) / len(convs),
    )
    out["escalation_reasons"] = dict(Counter(e.reason for e in of("handoff")))
    waits = [e.wait_seconds for e in of("queue_wait")]
    out["queue_wait"] = (len(waits), mean(waits), max(waits), sum(w > 60 for w in waits))
    closed = of("conversation_closed")
    out["abandonment"] = (
        len(closed),
        sum(e.abandoned for e in closed),
        sum(e.abandoned for e in closed) / len(closed),
    )
    scores = [e.score for e in of("csat")]
    out["csat"] = (
        len(scores),
        mean(scores),
        sum(s >= 4 for s in scores) / len(scores),
        {s: scores.count(s) for s in range(1, 6)},
    )
    nps = [e.score for e in of("nps")]
    promoters, detractors = sum(s >= 9 for s in nps), sum(s <= 6 for s in nps)
    out["nps"] = (len(nps), promoters, detractors, 100 * (promoters - detractors) / len(nps))
    tickets = {e.ticket_id for e in cur if e.event_type in ("ticket_change", "sla_breach")}
    breached = {e.ticket_id for e in of("sla_breach")}
    out["sla"] = (len(tickets), len(breached), len(breached) / len(tickets))
    cur_i = Counter(e.intent for e in of("bot_decision"))
    prev_i = Counter(e.intent for e in of("bot_decision", prev))
    out["hot_topics"] = {i: (cur_i[i], prev_i[i]) for i in set(cur_i) | set(prev_i) if cur_i[i] > prev_i[i]}
    days = Counter(min(e.ts for e in evs if e.event_type == "message_in").date() for evs in convs)
    out["daily_conversations"] = dict(days)
    return out
