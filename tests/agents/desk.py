"""Drives the app the way API Gateway, SQS and EventBridge would: REST through chalice's test client,
WebSocket frames through the checked-in events, escalations from the real queue into route_escalations."""

from __future__ import annotations

import json
import os
from typing import Any

from support import Lambda, ManagementApi, agent_token, customer_token, load_event


class Desk:
    def __init__(self, lam: Lambda, management_api: ManagementApi, session: Any) -> None:
        from chalice.test import Client

        self.lam = lam
        self.api = management_api
        self.app = lam.app
        self._client_cm = Client(self.app.app, stage_name="local")
        self.client = self._client_cm.__enter__()
        self.sqs = session.client("sqs")
        self.queue_url = self.sqs.get_queue_url(QueueName=os.environ["ESCALATION_QUEUE_NAME"])["QueueUrl"]
        self.admin = agent_token("root", "admin")

    def close(self) -> None:
        self._client_cm.__exit__(None, None, None)

    # -- REST ------------------------------------------------------------------------------------

    def rest(self, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = getattr(self.client.http, method.lower())(path, headers=headers,
                                                             body=json.dumps(body) if body is not None else None)
        self.lam.effects.drain()
        return response.status_code, json.loads(response.body) if response.body else None

    def agent(self, agent_id: str, *, skills: list[str] = (), languages: list[str] = ("en",), capacity: int = 3,
              team: str | None = None, role: str = "agent") -> str:
        body = {"name": agent_id.title(), "skills": list(skills), "languages": list(languages), "capacity": capacity,
                "role": role, **({"team_id": team} if team else {})}
        status, answer = self.rest("PUT", f"/admin/agents/{agent_id}", self.admin, body)
        assert status == 200, answer
        return agent_token(agent_id, role)

    def config(self, **settings: Any) -> None:
        status, answer = self.rest("PUT", "/admin/config", self.admin, settings)
        assert status == 200, answer

    # -- WebSocket -------------------------------------------------------------------------------

    def connect_agent(self, agent_id: str, token: str, online: bool = True) -> str:
        conn = f"ag-{agent_id}"
        assert self.lam.connect(conn, token, **{"as": "agent"})["statusCode"] == 200
        if online:
            self.lam.send(conn, {"action": "setStatus", "status": "online"})
        return conn

    def connect_customer(self, customer_id: str, **claims: Any) -> str:
        conn = f"cu-{customer_id}"
        assert self.lam.connect(conn, customer_token(customer_id, **claims))["statusCode"] == 200
        return conn

    def say(self, conn: str, text: str, msg_id: str) -> dict[str, Any]:
        self.lam.send(conn, {"action": "sendMessage", "client_msg_id": msg_id, "text": text})
        return self.api.of_type(conn, "ack")[-1]

    def frames(self, conn: str, frame_type: str) -> list[dict[str, Any]]:
        return self.api.of_type(conn, frame_type)

    # -- SQS and schedule --------------------------------------------------------------------------

    def drain(self, *, duplicate: bool = False) -> dict[str, Any]:
        """Hand every queued escalation to route_escalations as SQS would (optionally twice)."""
        records = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                break
            for message in messages:
                records.append(self.record(message["Body"], message["MessageId"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        result: dict[str, Any] = {"batchItemFailures": []}
        for start in range(0, len(records), 10):
            batch = records[start : start + 10] * (2 if duplicate else 1)
            answer = self.app.route_escalations({"Records": batch}, None)
            result["batchItemFailures"] += answer["batchItemFailures"]
        result["count"] = len(records)
        self.lam.effects.drain()
        return result

    @staticmethod
    def record(body: str, message_id: str) -> dict[str, Any]:
        record = load_event("sqs/escalation.json")["Records"][0]
        record.update(body=body, messageId=message_id)
        return record

    def sweep(self) -> Any:
        answer = self.app.agent_sweeps(load_event("scheduled/minute.json"), None)
        self.lam.effects.drain()
        return answer
