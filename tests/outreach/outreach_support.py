"""Drive outreach as its users and AWS would: REST with desk tokens, the queues drained into their handlers."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from support import agent_token

REENGAGE_WHATSAPP = {
    "channel": "whatsapp", "name": "service_update", "platform_language": "en_US",
    "body": "Hello {{customer_name}}, we have an update for you: {{text}}", "params": ["customer_name", "text"],
    "status": "approved", "category": "utility", "purposes": ["reengage"],
}


class VirtualClock:
    """The Lambda code's one clock (`chalicelib.ids.set_clock`), moved by the test.

    A `ticking` clock also runs at the wall clock's pace, as SQS's delays and visibility timeouts do:
    what the code schedules by its clock then comes due when SQS hands it over, however slow the machine."""

    def __init__(self, *, ticking: bool = False) -> None:
        self._offset = 0.0
        self._ticking = ticking
        self._start = time.time()

    @property
    def now(self) -> float:
        return self._start + self._offset + (time.time() - self._start if self._ticking else 0.0)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self._offset += seconds


class Outreach:
    def __init__(self, social: Any) -> None:
        self.social = social
        self.client = social.client
        self.sqs = social.sqs
        self.admin = agent_token("root", "admin")
        self.clock: VirtualClock | None = None

    def close(self) -> None:
        if self.clock is not None:
            from chalicelib import ids

            ids.set_clock(None)

    def virtual_clock(self, *, ticking: bool = False) -> VirtualClock:
        from chalicelib import ids

        self.clock = VirtualClock(ticking=ticking)
        ids.set_clock(self.clock)
        return self.clock

    @property
    def services(self) -> Any:
        from chalicelib import services as composition

        return composition.services()

    # -- REST --------------------------------------------------------------------------------

    def rest(self, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        response = getattr(self.client.http, method.lower())(path, headers=headers,
                                                             body=json.dumps(body) if body is not None else None)
        return response.status_code, json.loads(response.body) if response.body else None

    def template(self, template_id: str, language: str = "en", **fields: Any) -> dict[str, Any]:
        status, answer = self.rest("PUT", f"/admin/templates/{template_id}/{language}", self.admin, fields)
        assert status == 200, answer
        return answer

    def online_agent(self, agent_id: str = "amy") -> str:
        status, answer = self.rest("PUT", f"/admin/agents/{agent_id}", self.admin,
                                   {"name": agent_id.title(), "languages": ["en", "zh"], "capacity": 5})
        assert status == 200, answer
        token = agent_token(agent_id)
        status, answer = self.rest("PUT", "/agent/status", token, {"status": "online"})
        assert status == 200, answer
        return token

    # -- queues ------------------------------------------------------------------------------

    def queue_url(self, env_name: str) -> str:
        return self.sqs.get_queue_url(QueueName=os.environ[env_name])["QueueUrl"]

    def drain(self, env_name: str, handler: Any, *, timeout: float = 60.0, wait_for: Any = None,
              between_rounds: Any = None) -> list[dict[str, Any]]:
        """Hand the queue's messages to `handler` until it is empty (and `wait_for()` holds), as SQS would.

        `between_rounds` runs whenever nothing is visible (e.g. to let campaign time pass)."""
        url = self.queue_url(env_name)
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        results: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                                AttributeNames=["All"]).get("Messages", [])
            if not messages:
                if wait_for is None or wait_for():
                    return results
                if between_rounds is not None:
                    between_rounds()
                continue
            event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                                  "body": m["Body"], "attributes": m.get("Attributes", {}), "messageAttributes": {},
                                  "md5OfBody": m.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": arn,
                                  "awsRegion": "us-east-1"} for m in messages]}
            result = handler(event, None)
            self.social.effects.drain()  # the messages the handler posted have their effects
            results.append(result)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                       VisibilityTimeout=0)
                else:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError(f"{env_name} did not drain within {timeout:.0f} s")

    def drain_outbound(self) -> list[dict[str, Any]]:
        return self.drain("OUTBOUND_QUEUE_NAME", self.social.app.send_outbound)

    def drain_followups(self) -> list[dict[str, Any]]:
        return self.drain("FOLLOWUP_QUEUE_NAME", self.social.app.send_followups)
