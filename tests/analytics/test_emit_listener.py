"""The recorder buffers per invocation and flushes once; the subscriber turns messages into events; live tallies."""

from __future__ import annotations

from types import SimpleNamespace

from chalicelib.analytics.emit import InteractionRecorder
from chalicelib.analytics.live import tally
from chalicelib.analytics.subscriber import InteractionSubscriber, bot_decision
from chalicelib.core.events import MessageStored
from chalicelib.core.models import Message, Sender


class Fakes:
    def __init__(self) -> None:
        self.batches: list[list] = []
        self.counted: list[list] = []

    def publish_many(self, events):
        self.batches.append(list(events))

    def record(self, events):
        self.counted.append(list(events))


def test_batch_flushes_once_at_the_end_and_never_raises():
    fakes = Fakes()
    recorder = InteractionRecorder(lambda: fakes, lambda: fakes)
    emit_module = recorder
    with emit_module.batch():
        with emit_module.batch():  # nested (a handler calling another): still one flush
            emit_module.emit({"event_type": "message_in"})
        emit_module.emit({"event_type": "message_out"})
        assert fakes.batches == [] and emit_module.pending() == 2
    assert len(fakes.batches) == 1 and len(fakes.batches[0]) == 2 and len(fakes.counted) == 1
    emit_module.emit({"event_type": "csat"})  # outside an invocation: sent at once
    assert len(fakes.batches) == 2


    def broken():
        raise RuntimeError("no PSEUDONYM_KEY")

    unavailable = InteractionRecorder(broken, lambda: fakes)
    unavailable.emit({"event_type": "csat"})  # logged and dropped, not raised
    assert unavailable.pending() == 0


def _message(sender: str, seq: int, meta=None, visibility="public") -> Message:
    return Message(message_id=f"msg_{seq}", conversation_id="conv_1", seq=seq, ts="2026-11-02T10:00:00.000Z",
                   ts_ms=0, sender=Sender(type=sender, id="alice" if sender == "customer" else "bot"),
                   channel="app", text="hello 13812345678", meta=meta, visibility=visibility)


def test_subscriber_events_never_carry_text():
    out: list[dict] = []
    lookups: list[str] = []
    alice = SimpleNamespace(customer_id="alice")
    subscriber = InteractionSubscriber(out.append, lambda c: lookups.append(c) or alice)
    subscriber.on_message_stored(MessageStored(message=_message("customer", 1)))
    meta = {"intent": "refund", "confidence": 0.42, "action": "handoff", "sentiment": "negative",
            "reason": "customer_request", "in_reply_to": "msg_1", "bot": True}
    subscriber.on_message_stored(MessageStored(message=_message("bot", 2, meta)))
    note = _message("agent", 3, visibility="internal")  # a note: not an interaction
    subscriber.on_message_stored(MessageStored(message=note))
    assert [e["event_type"] for e in out] == ["message_in", "message_out", "bot_decision", "handoff"]
    assert lookups == []  # the customer came from the first message, cached
    assert all("text" not in e and "13812345678" not in str(e) for e in out)
    assert out[2]["message_id"] == "msg_1" and out[2]["intent"] == "refund" and out[1]["text_length"] == 17


def test_bot_decision_shapes():
    assert bot_decision({"text": "no decision"}) is None
    nested = bot_decision({"decision": {"action": "answer", "confidence": 1.7, "sentiment": {"label": "positive"}}})
    assert nested == {"action": "answer", "confidence": 1.0, "intent": None, "sentiment": "positive", "reason": None}


def test_live_tally_counts_new_conversations_per_day():
    events = [
        {"event_type": "message_in", "ts": "2026-11-02T23:59:00Z", "seq": 1, "channel": "app"},
        {"event_type": "message_in", "ts": "2026-11-02T23:59:30Z", "seq": 2, "channel": "app"},
        {"event_type": "message_in", "ts": "2026-11-03T00:00:10Z", "seq": 1, "channel": "wechat"},
        {"event_type": "csat", "ts": "2026-11-03T00:05:00Z", "score": 4},
        {"event_type": "unknown", "ts": "2026-11-03T00:05:00Z"},
    ]
    per_day = tally(events)
    assert per_day["2026-11-02"] == {"messages_in": 2, "conversations": 1, "channel_app": 1}
    assert per_day["2026-11-03"]["channel_wechat"] == 1 and per_day["2026-11-03"]["csat_score_sum"] == 4
