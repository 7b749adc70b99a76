"""What the fault suites share: clients that retry as real ones do, AWS's own pollers, checks read from moto
directly (never through the proxy), and the one-line summary each test records.

- `send_until_acked`: the JS SDK's resend of a chat frame until acked;
- `Platform`: a social platform's webhook delivery, signed as the platform signs it and retried with the
  same bytes until it is answered 2xx (platforms retry on 5xx and timeouts; a 4xx is final);
- `QueueConsumer`: Lambda's SQS event source mapping on moto directly (AWS's poller is not behind our
  flaky network): failures (`batchItemFailures`, an exception) come back at once ("the visibility
  timeout passed"), and a share of the records handled successfully is delivered again, as SQS may;
- `table_items`, `stream_events`: what moto holds;
- `record_summary`: prints the counts and appends them to `test-output/faults/summary.jsonl`.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from support import ROOT

from local.fault_proxy import Rule

SUMMARY = ROOT / "test-output" / "faults" / "summary.jsonl"
RETRYABLE_KINDS = ("throttle", "5xx", "reset", "lost_reply")


def ten_percent(*services: str, kinds: tuple[str, ...] = RETRYABLE_KINDS, sqs_operations: tuple[str, ...] = (
        "SendMessage", "ChangeMessageVisibility")) -> list[Rule]:
    """10 % of the app's calls to each service fail. For SQS only the app's own operations: receiving and
    deleting belong to Lambda's event source mapping (or the test's stand-in for it), not to the app."""
    rules = []
    for service in services:
        if service == "sqs":
            rules += [Rule("sqs", operation, 0.10, kinds) for operation in sqs_operations]
        elif service == "kinesis":  # Kinesis's client fails fast on the customer's path; no lost replies
            rules.append(Rule("kinesis", "*", 0.10, tuple(k for k in kinds if k != "lost_reply")))
        else:
            rules.append(Rule(service, "*", 0.10, kinds))
    return rules


# -- clients -------------------------------------------------------------------------------------


def send_until_acked(lam: Any, api: Any, conn: str, client_msg_id: str, text: str,
                     attempts: int = 12) -> dict[str, Any]:
    """The SDK's behaviour: resend the same frame on a retryable error or a 500, up to `attempts` times."""
    told = []
    for _ in range(attempts):
        seen = len(api.frames[conn])
        try:
            lam.send(conn, {"action": "sendMessage", "client_msg_id": client_msg_id, "text": text})
        except Exception as exc:  # API Gateway answers "Internal server error": the client retries
            told.append(f"500: {exc!r}")
            continue
        answers = [f for f in api.frames[conn][seen:] if f.get("client_msg_id") == client_msg_id]
        acks = [f for f in answers if f.get("type") == "ack"]
        if acks:
            return acks[-1]
        errors = [f for f in answers if f.get("type") == "error"]
        assert errors, f"{client_msg_id}: the client was told nothing (neither ack nor error)"
        assert all(e.get("retryable") for e in errors), errors
        told.append(errors[-1]["code"])
    raise AssertionError(f"{client_msg_id} never acked after {attempts} attempts: {told}")


class Platform:
    """WhatsApp, Telegram, LINE... delivering webhooks to `/webhooks/{channel}` through the Chalice test client
    (API Gateway in process), the effects queue drained after each request as its event source mapping would."""

    def __init__(self, client: Any, effects: Any, secrets: dict[str, str], attempts: int = 10) -> None:
        self._client = client
        self._effects = effects
        self._secrets = secrets
        self._attempts = attempts
        self.statuses: Counter[int] = Counter()
        self.deliveries = 0

    def deliver(self, channel: str, text: str, *, user: str, event_id: str) -> int:
        """One event delivered until answered 2xx; returns the attempts it took. A 4xx (final for the platform:
        the message would be lost) fails the test."""
        from local.webhook import signed_request, text_body

        body, headers, query = signed_request(channel, text_body(channel, text, user=user, event_id=event_id),
                                              self._secrets)
        path = f"/webhooks/{channel}" + (f"?{urlencode(query)}" if query else "")
        self.deliveries += 1
        for attempt in range(1, self._attempts + 1):
            response = self._client.http.post(path, headers=headers, body=body)
            self.statuses[response.status_code] += 1
            self._effects.drain()
            if 200 <= response.status_code < 300:
                return attempt
            assert response.status_code >= 500, (
                f"{channel} {event_id}: answered {response.status_code} {response.body!r}: the platform would not "
                "retry a 4xx, the message would be lost")
        raise AssertionError(f"{channel} {event_id} not accepted after {self._attempts} deliveries")


# -- AWS's pollers -------------------------------------------------------------------------------


class QueueConsumer:
    """An SQS event source mapping with ReportBatchItemFailures, on moto directly."""

    def __init__(self, sqs: Any, queue_name: str, handler: Any, *, redeliver: float = 0.0, seed: int = 13,
                 context: Any = None) -> None:
        self._sqs = sqs
        self.url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._handler = handler
        self._redeliver = redeliver
        self._rng = random.Random(seed)
        self._context = context
        self._redelivered: set[str] = set()
        self.stats: Counter[str] = Counter()

    def drain(self, max_rounds: int = 300) -> Counter[str]:
        from local.pollers import sqs_record

        for _ in range(max_rounds):
            messages = self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                                 AttributeNames=["All"], MessageAttributeNames=["All"]
                                                 ).get("Messages", [])
            if not messages:
                return self.stats
            event = {"Records": [sqs_record(m, self.arn, "us-east-1") for m in messages]}
            self.stats["batches"] += 1
            self.stats["records"] += len(messages)
            try:
                result = self._handler(event, self._context)
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            except Exception:  # the invocation failed: the whole batch comes back
                self.stats["invocation_errors"] += 1
                failed = {m["MessageId"] for m in messages}
            for message in messages:
                again = message["MessageId"] in failed
                if not again and message["MessageId"] not in self._redelivered and self._rng.random() < self._redeliver:
                    self._redelivered.add(message["MessageId"])  # SQS delivers a handled record once more
                    self.stats["redelivered"] += 1
                    again = True
                if again:
                    self.stats["failed"] += message["MessageId"] in failed
                    self._sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"],
                                                        VisibilityTimeout=0)
                else:
                    self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError(f"{self.url} did not drain in {max_rounds} rounds: {self.stats}")

    def left(self) -> int:
        """Messages still in the queue (visible or not)."""
        attributes = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def queue_depth(sqs: Any, queue_name: str) -> int:
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


# -- what moto holds -----------------------------------------------------------------------------


def table_items(proxy: Any) -> list[dict[str, Any]]:
    """Every item of the single table, decoded (the test's tables are small)."""
    from chalicelib.store.codec import decode

    db = proxy.direct("dynamodb")
    items = []
    for page in db.get_paginator("scan").paginate(TableName=os.environ["TABLE_NAME"], ConsistentRead=True):
        items += [decode(item) for item in page["Items"]]
    return items


def messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if str(i.get("sk", "")).startswith("MSG#")]


def stored_customer_messages(proxy: Any, conversation_ids: set[str]) -> Counter[str]:
    """client_msg_id -> how many customer message items moto holds for it."""
    db = proxy.direct("dynamodb")
    counts: Counter[str] = Counter()
    for conversation_id in conversation_ids:
        pages = db.get_paginator("query").paginate(
            TableName=os.environ["TABLE_NAME"], KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues={":pk": {"S": f"CONV#{conversation_id}"}, ":m": {"S": "MSG#"}})
        for page in pages:
            for item in page["Items"]:
                if item.get("sender", {}).get("M", {}).get("type", {}).get("S") == "customer":
                    counts[item["client_msg_id"]["S"]] += 1
    return counts


def stream_events(proxy: Any) -> list[dict[str, Any]]:
    """Every interaction event on the stream, in order per shard."""
    kinesis = proxy.direct("kinesis")
    name = os.environ["INTERACTIONS_STREAM_NAME"]
    events: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in kinesis.get_records(ShardIterator=iterator, Limit=10000)["Records"]:
            for line in record["Data"].decode().splitlines():
                event = json.loads(line)
                events += event if isinstance(event, list) else [event]
    return events


def message_events(proxy: Any, event_type: str = "message_in") -> Counter[str]:
    """message_id -> how many `event_type` events the stream holds for it."""
    return Counter(e["message_id"] for e in stream_events(proxy) if e.get("event_type") == event_type)


# -- polling and reporting -----------------------------------------------------------------------


def eventually(check: Any, timeout: float = 60, interval: float = 0.2) -> Any:
    """`check()`'s first truthy answer before the deadline (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() >= deadline:
            return answer
        time.sleep(interval)


def fault_counts(stats: dict[str, Any]) -> dict[str, int]:
    """Injected faults per kind (from the proxy's counters)."""
    kinds: Counter[str] = Counter()
    for name, count in stats["faults"].items():
        kinds[name.rsplit(":", 1)[-1]] += count
    return dict(sorted(kinds.items()))


def record_summary(test: str, stats: dict[str, Any], rules: list[Rule], **counts: Any) -> str:
    """One line for the lead: the rates, the faults injected per kind, the counts checked."""
    rates = sorted({f"{r.service}:{r.operation}={r.rate:.0%}" + (f" (first {r.limit})" if r.limit else "")
                    for r in rules})
    line = {"test": test, "rates": rates, "requests": stats["requests_total"], "faults": stats["faults_total"],
            "fault_kinds": fault_counts(stats), **counts}
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    with SUMMARY.open("a") as out:
        out.write(json.dumps(line, default=str) + "\n")
    text = (f"{test}: {stats['faults_total']} faults in {stats['requests_total']} AWS requests "
            f"{fault_counts(stats)}; " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    print("\n" + text)
    return text
