"""Interaction events through the real wiring: message -> Kinesis -> archive handler -> S3, without PII."""

from __future__ import annotations

import base64
import io
import json
import re

from analytics_flow import archive, archived_events, bucket_objects, stream_records
from support import customer_token

from chalicelib import services as composition

# Seeded personal data a customer types (valid checksums, so they are really personal data).
PII = {
    "phone": "13812345678",
    "intl_phone": "+44 20 7946 0958",
    "email": "alice.wong@example.com",
    "id_number": "11010519491231002X",
    "card": "4111 1111 1111 1111",
}


def test_message_reaches_s3_partition_once_and_without_pii(lam, aws):
    # The platform's log stream as Lambda would ship it: the Powertools logger's own formatter.
    import logging

    from chalicelib.observability import SERVICE, logger

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger(SERVICE).addHandler(handler)
    assert lam.connect("C1=", customer_token("alice", name="Alice"))["statusCode"] == 200
    texts = [f"my {kind} is {value}, order 2024110112345" for kind, value in PII.items()]
    for i, text in enumerate(texts):
        lam.send("C1=", {"action": "sendMessage", "client_msg_id": f"c{i}", "text": text})

    _, records = stream_records(aws)
    assert all(r["kinesis"]["partitionKey"].startswith("conv_") for r in records)
    assert archive(lam.app, records) == {"batchItemFailures": []}

    objects = bucket_objects(aws, "events/")
    assert objects and all(re.match(r"events/dt=\d{4}-\d\d-\d\d/hour=\d\d/shardId-.*\.jsonl\.gz$", k) for k in objects)
    events = archived_events(objects)
    assert len(events) == len(records)
    inbound = [e for e in events if e["event_type"] == "message_in"]
    assert len(inbound) == len(texts) and {e["text_length"] for e in inbound} == {len(t) for t in texts}
    # the bot's answers, when the bot is wired, are message_out + bot_decision
    assert {e["event_type"] for e in events} <= {"message_in", "message_out", "bot_decision", "handoff"}
    assert "alice" not in json.dumps(events)  # pseudonymised customer id
    day = events[0]["ts"][:10]
    assert all(k.startswith(f"events/dt={day}/hour={events[0]['ts'][11:13]}/") for k in objects)

    # Replaying the same batch (a Lambda retry) rewrites the same objects: no duplicates.
    assert archive(lam.app, records) == {"batchItemFailures": []}
    again = bucket_objects(aws, "events/")
    assert again.keys() == objects.keys() and len(archived_events(again)) == len(events)

    # Whatever a handler logs about the customer's words is redacted by the platform's formatter.
    for text in texts:
        logger.warning("customer wrote", extra={"customer_text": text})
        logger.info(f"echo: {text}")
    everything = b"".join(bucket_objects(aws).values())
    logging.getLogger(SERVICE).removeHandler(handler)
    logs = captured.getvalue()
    assert logs.count("customer wrote") == len(texts) and "[PHONE]" in logs and "[CARD]" in logs
    for value in PII.values():
        assert value.encode() not in everything
        assert value not in logs


def test_poison_record_is_kept_with_its_error(lam, aws):
    lam.connect("C2=", customer_token("bob"))
    lam.send("C2=", {"action": "sendMessage", "client_msg_id": "b1", "text": "hello"})
    _, records = stream_records(aws)
    poison = json.loads(json.dumps(records[0]))
    poison["kinesis"]["sequenceNumber"] = str(int(records[0]["kinesis"]["sequenceNumber"]) + 1)
    poison["kinesis"]["data"] = base64.b64encode(b'{"event_type": "message_in", "oops": true}').decode()

    assert archive(lam.app, [*records, poison]) == {"batchItemFailures": []}
    errors = bucket_objects(aws, "errors/")
    assert len(errors) == 1
    kept = json.loads(next(iter(errors.values())))
    assert "invalid event" in kept["error"] and kept["sequence_number"] == poison["kinesis"]["sequenceNumber"]
    assert base64.b64decode(kept["raw_data"]).startswith(b'{"event_type"')
    assert len(archived_events(bucket_objects(aws, "events/"))) == len(records)


def test_publishing_failure_never_fails_the_customer_message(lam, aws, monkeypatch, management_api):
    lam.connect("C3=", customer_token("carol"))

    def broken(*args, **kwargs):
        raise RuntimeError("kinesis is down")

    monkeypatch.setattr(composition.services().client("kinesis"), "put_records", broken)
    lam.send("C3=", {"action": "sendMessage", "client_msg_id": "k1", "text": "still works?"})
    acks = management_api.of_type("C3=", "ack")
    assert len(acks) == 1 and acks[0]["seq"] == 1
