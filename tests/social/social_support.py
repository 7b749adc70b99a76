"""A platform's point of view: signed webhooks in, the outbound queue drained, sends observed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from channels.support import SECRETS as CHANNEL_SECRETS
from support import EffectsQueue

from local.webhook import signed_request, text_body

ROOT = Path(__file__).resolve().parents[2]

# The adapters' test secrets; the generic callback URL is pointed at the fake platform server instead.
SECRETS: dict[str, str] = {k: v for k, v in CHANNEL_SECRETS.items() if k != "GENERIC_CALLBACK_URL"}

# Where each platform's send API is on the fake server, and the recipient field of its payload.
SEND_PATH = {"wechat": "/cgi-bin/message/custom/send", "whatsapp": "/messages", "messenger": "/me/messages",
             "telegram": "/sendMessage", "line": "/v2/bot/message/push", "generic": "/generic/callback"}
CHANNELS = tuple(SEND_PATH)


class Social:
    def __init__(self, app_module: Any, client: Any, fake: Any, session: Any) -> None:
        self.app = app_module
        self.client = client
        self.fake = fake
        self.session = session
        self.sqs = session.client("sqs")
        self.queue_url = self.sqs.get_queue_url(QueueName=os.environ["OUTBOUND_QUEUE_NAME"])["QueueUrl"]
        self.dlq_url = self.sqs.get_queue_url(QueueName=os.environ["OUTBOUND_QUEUE_NAME"] + "-dlq")["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.effects = EffectsQueue(app_module)

    # -- inbound -----------------------------------------------------------------------------

    def post(self, channel: str, body: bytes, headers: dict[str, str], query: dict[str, str] | None = None) -> Any:
        path = f"/webhooks/{channel}" + (f"?{urlencode(query)}" if query else "")
        response = self.client.http.post(path, headers=headers, body=body)
        self.effects.drain()  # what process_effects' event source mapping does once the webhook answered
        return response

    def send_text(self, channel: str, text: str, *, user: str | None = None, event_id: str | None = None,
                  now: float | None = None, repeat: int = 1) -> list[Any]:
        body, headers, query = signed_request(channel, text_body(channel, text, user=user, event_id=event_id, now=now),
                                              SECRETS)
        return [self.post(channel, body, headers, query) for _ in range(repeat)]

    # -- the conversation --------------------------------------------------------------------

    def customer_of(self, channel: str, external_id: str) -> str:
        from chalicelib import services as composition

        identity = composition.services().identity_store.get(channel, external_id)
        assert identity is not None, f"no identity {channel}/{external_id}"
        return identity.customer_id

    def open_conversation(self, customer_id: str) -> str:
        from chalicelib import services as composition

        conversation_id = composition.services().conversation_store.open_conversation_id(customer_id)
        assert conversation_id
        return conversation_id

    def messages(self, conversation_id: str) -> list[Any]:
        from chalicelib import services as composition

        return composition.services().conversation_store.list_messages(conversation_id, after_seq=0, limit=100)[0]

    def agent_reply(self, conversation_id: str, text: str, **meta: Any) -> Any:
        from chalicelib import services as composition
        from chalicelib.core.models import MessageDraft, Sender

        draft = MessageDraft(sender=Sender(type="agent", id="agent-1", name="Agent One"), channel="app", text=text,
                             meta=meta or None)
        message = composition.services().conversations.post(conversation_id, draft).message
        self.effects.drain()
        return message

    def delivery(self, message: Any) -> dict[str, Any] | None:
        from chalicelib import services as composition

        return composition.services().delivery_store.delivery(message.conversation_id, message.seq)

    # -- outbound ----------------------------------------------------------------------------

    def drain_outbound(self, max_rounds: int = 12) -> list[dict[str, Any]]:
        """Run the consumer until the queue is empty; a retried record is made visible again at once."""
        results = []
        for _ in range(max_rounds):
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                                AttributeNames=["All"], MessageAttributeNames=["All"]
                                                ).get("Messages", [])
            if not messages:
                return results
            event = {"Records": [self.record(m) for m in messages]}
            result = self.app.send_outbound(event, None)
            results.append(result)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] in failed:  # "time passes": the backoff is over
                    self.sqs.change_message_visibility(QueueUrl=self.queue_url,
                                                       ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
                else:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError("the outbound queue did not drain")

    def dlq(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                            MessageAttributeNames=["All"]).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def sends(self, channel: str) -> list[dict[str, Any]]:
        return self.fake.requests(SEND_PATH[channel])

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("MessageAttributes") or {}
        return {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {k: {"stringValue": v.get("StringValue"), "dataType": v["DataType"]}
                                  for k, v in attributes.items()},
            "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": self.queue_arn,
            "awsRegion": "us-east-1",
        }


def user_of(channel: str, index: int = 1) -> str:
    """A distinct platform user id per test (channels have their own id formats)."""
    stamp = int(time.time() * 1000) % 10**9
    return {"wechat": f"oTEST{stamp}{index:03d}", "whatsapp": f"1555{stamp:09d}{index}",
            "messenger": f"70{stamp:09d}{index}", "telegram": str(500000000 + index),
            "line": f"U{stamp:031d}{index}", "generic": f"crm-{stamp}-{index}"}[channel]
