"""Play a realistic month of customers through the local stack, then report on it.

    make dev ARGS=--simulated-clock        # or: python -m local.devserver --simulated-clock
    python -m local.simulator --days 30 --customers 300 --report report.html

Customers contact the service a Poisson number of times over the period, at times drawn from a
daily curve (quiet nights, a late-morning and an evening peak) and a weekly one (quieter
weekends). Every contact is a WebSocket session through the real gateway (connect with a dev
token, `sendMessage` frames, the bot answers, disconnect), so every event is stamped by the
server: the simulator moves the local stack's simulated clock (`local/clock.py`) to each
message's moment before sending it. Some customers type personal data (phone numbers, e-mails),
which must reach neither the archive nor the logs.

At the end the simulator waits for the archive (Kinesis -> archive handler -> S3) to hold every
published event, prints the pipeline's throughput, and (with `--report`) renders the month
with `python -m chalicelib.cli report` against the local bucket.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local.clock import ClockClient

# Hour-of-day and day-of-week weights of contact arrivals (UTC; the company is in one time zone).
HOURLY = [0.15, 0.08, 0.05, 0.05, 0.07, 0.15, 0.35, 0.7, 1.1, 1.5, 1.8, 1.9,
          1.7, 1.6, 1.6, 1.5, 1.4, 1.4, 1.5, 1.7, 1.8, 1.5, 0.9, 0.4]
WEEKDAY = [1.0, 0.95, 0.95, 0.95, 1.05, 0.7, 0.6]

# Conversation scripts: what customers type (en and zh), one to three messages each.
SCRIPTS: list[list[str]] = [
    ["Where is my order?", "It was supposed to arrive yesterday"],
    ["我的快递到哪里了？"],
    ["I want a refund for order 20241105", "The item arrived broken"],
    ["怎么申请退款", "商品有质量问题"],
    ["How do I change my delivery address?"],
    ["I can't log in to my account", "my email is {email}"],
    ["忘记密码了怎么办"],
    ["My card was charged twice", "please call me on {phone}"],
    ["支付失败了", "我的手机号是{phone}"],
    ["Can I talk to a real person please"],
    ["转人工"],
    ["hello", "what are your opening hours?"],
    ["你好", "营业时间是几点"],
    ["Do you ship to Hong Kong?"],
    ["How long does delivery take?"],
    ["I need an invoice for my last order"],
    ["This is useless, I want to speak to a manager"],
    ["Is there a discount for members?"],
]
CHANNELS = ["app", "app", "app", "miniprogram", "web"]
# Share of contacts that come through a social platform's webhook (when the stack has channels).
SOCIAL = ["telegram", "whatsapp", "line", "messenger", "wechat"]
SOCIAL_SHARE = 0.2


@dataclass
class Session:
    customer: str
    start_ms: int
    channel: str
    texts: list[str]
    gaps_ms: list[int] = field(default_factory=list)
    pii: list[str] = field(default_factory=list)  # personal data typed in this session
    social: str | None = None  # the platform, for contacts through a webhook


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def plan_sessions(start: datetime, days: int, customers: int, seed: int,
                  contacts_per_month: float = 1.6, scripts: list[list[str]] | None = None) -> list[Session]:
    """Every contact of the period, in time order (``scripts``: what customers type, default SCRIPTS)."""
    rng = random.Random(seed)
    slots = [(d, h) for d in range(days) for h in range(24)]
    weights = [WEEKDAY[(start + timedelta(days=d)).weekday()] * HOURLY[h] * (1 + 0.15 * d / max(days, 1))
               for d, h in slots]
    sessions = []
    for c in range(customers):
        customer = f"sim-{seed}-{c:05d}"
        for _ in range(_poisson(rng, contacts_per_month * days / 30)):
            d, h = rng.choices(slots, weights)[0]
            at = start + timedelta(days=d, hours=h, seconds=rng.uniform(0, 3300))
            script = rng.choice(scripts or SCRIPTS)
            phone, email = _phone(rng), f"{customer}@example.com"
            texts = [t.format(phone=phone, email=email) for t in script]
            pii = [v for v in (phone, email) if any(v in t for t in texts)]
            gaps = [int(rng.uniform(15, 90) * 1000) for _ in texts]
            social = rng.choice(SOCIAL) if rng.random() < SOCIAL_SHARE else None
            sessions.append(Session(customer, int(at.timestamp() * 1000), rng.choice(CHANNELS), texts, gaps, pii,
                                    social))
    sessions.sort(key=lambda s: s.start_ms)
    return sessions


def _handoff_texts() -> set[str]:
    try:
        from chalicelib.bot.policy import TEXTS

        return {text for key in ("handoff", "not_trained") for text in TEXTS.get(key, {}).values()}
    except (ImportError, KeyError):
        return set()


class Simulator:
    def __init__(self, ws_url: str, clock: ClockClient, *, agents: list[str] | None = None, seed: int = 1,
                 bot_wait: float = 3.0, http_url: str | None = None) -> None:
        self.ws_url = ws_url.rstrip("/")
        self.http_url = http_url.rstrip("/") if http_url else None
        self._conversation: str | None = None
        self.social_messages = 0
        self.clock = clock
        self.bot_wait = bot_wait
        self.agents = agents or []
        self.rng = random.Random(seed + 1)
        self.sent = self.acked = self.bot_replies = self.errors = 0
        self.handoffs = self.resolved_by_agents = self.ratings = self.agent_errors = 0
        self._bot_seen = False
        self._sessions_without_bot = 0
        self._handoff_texts = _handoff_texts()
        self._handed_over = False

    def play(self, session: Session) -> None:
        from websockets.sync.client import connect

        from local.token import mint

        if session.social and self.http_url:
            self._play_social(session)
            return
        self.clock.set_ms(session.start_ms)
        token = mint("customer", session.customer, name=f"Customer {session.customer[-5:]}")
        with connect(f"{self.ws_url}/?token={token}&channel={session.channel}", open_timeout=10) as ws:
            at = session.start_ms
            got_bot = False
            self._handed_over = False
            for i, (text, gap) in enumerate(zip(session.texts, session.gaps_ms, strict=True)):
                if i:
                    at += gap
                    self.clock.set_ms(at)
                client_msg_id = f"{session.customer}-{session.start_ms}-{i}"
                ws.send(json.dumps({"action": "sendMessage", "client_msg_id": client_msg_id, "text": text}))
                self.sent += 1
                got_bot |= self._await_answers(ws, client_msg_id)
                if self._handed_over and self._conversation:
                    self.handoffs += 1
                    if self.agents:
                        self._agent_handles(ws, self._conversation, at)
                    break
            if not got_bot:
                self._sessions_without_bot += 1

    def _play_social(self, session: Session) -> None:
        """The same contact through a platform's signed webhook (the bot answers through the outbound queue)."""
        from urllib.parse import urlencode
        from urllib.request import Request, urlopen

        from local.devserver import DEV_SECRETS
        from local.webhook import signed_request, text_body

        number = str(int(hashlib.sha256(session.customer.encode()).hexdigest()[:10], 16))
        user = {"telegram": number[:9], "whatsapp": "86" + number[:11].ljust(11, "0"), "messenger": number,
                "line": "U" + hashlib.md5(session.customer.encode()).hexdigest(),
                "wechat": "o" + hashlib.md5(session.customer.encode()).hexdigest()[:27]}[session.social or ""]
        at = session.start_ms
        for i, (text, gap) in enumerate(zip(session.texts, session.gaps_ms, strict=True)):
            at += gap if i else 0
            self.clock.set_ms(at)
            channel = session.social or ""
            body, headers, query = signed_request(channel, text_body(channel, text, user=user), DEV_SECRETS)
            url = f"{self.http_url}/webhooks/{session.social}" + (f"?{urlencode(query)}" if query else "")
            with urlopen(Request(url, data=body, headers=headers, method="POST"), timeout=15) as response:
                response.read()
            self.sent += 1
            self.acked += 1
            self.social_messages += 1
        if self.agents and self._queue_length():
            self.handoffs += 1
            self._agent_takes_queue()

    def _queue_length(self) -> int:
        """Conversations waiting for a human (GET /supervisor/queue); 0 when the desk API is absent."""
        from urllib.request import Request, urlopen

        from local.token import mint

        token = mint("agent", "sim-supervisor", role="supervisor")
        try:
            request = Request(f"{self.http_url}/supervisor/queue", headers={"Authorization": f"Bearer {token}"})
            with urlopen(request, timeout=10) as response:
                return len(json.loads(response.read()))
        except Exception:
            return 0

    def _agent_takes_queue(self) -> None:
        """An agent comes online for the waiting conversations (social contacts), answers and resolves them."""
        from websockets.sync.client import connect

        from local.token import mint

        agent = self.rng.choice(self.agents)
        token = mint("agent", agent, name=f"Agent {agent}", role="agent")
        with connect(f"{self.ws_url}/?token={token}&as=agent", open_timeout=10) as aws:
            offers: list[dict[str, Any]] = []
            aws.send(json.dumps({"action": "setStatus", "status": "online"}))
            first = _wait_for(aws, lambda f: f.get("type") == "offer", timeout=5, stash=offers)
            if first is not None:
                offers.insert(0, first)
            handled = 0
            while offers and handled < 10:
                _handle_blind(self, aws, agent, offers.pop(0)["conversation_id"], offers)
                handled += 1
            aws.send(json.dumps({"action": "setStatus", "status": "offline"}))
            _wait_for(aws, lambda f: False, timeout=0.2)

    def _agent_handles(self, customer_ws: Any, conversation_id: str, handoff_ms: int) -> None:
        """A human agent comes online, accepts after a queue wait, answers, resolves; the customer rates.

        Conversations handed over earlier (social contacts, whose customers have no socket here) are
        offered first: the agent answers and resolves those too, then the one of this session."""
        from websockets.sync.client import connect

        from local.token import mint

        agent = self.rng.choice(self.agents)
        wait_s = min(900.0, self.rng.expovariate(1 / 70))
        handle_s = self.rng.uniform(90, 720)
        token = mint("agent", agent, name=f"Agent {agent}", role="agent")
        with connect(f"{self.ws_url}/?token={token}&as=agent", open_timeout=10) as aws:
            aws.send(json.dumps({"action": "setStatus", "status": "online"}))
            offers: list[dict[str, Any]] = []  # offers that arrive while the agent answers another one
            for _ in range(20):
                offer = offers.pop(0) if offers else _wait_for(aws, lambda f: f.get("type") == "offer", timeout=15)
                if offer is None:
                    self.agent_errors += 1
                    print("agent: no offer", file=sys.stderr)
                    return
                if offer["conversation_id"] == conversation_id:
                    break
                _handle_blind(self, aws, agent, offer["conversation_id"], offers)
            self.clock.set_ms(handoff_ms + int(wait_s * 1000))
            # The gateway runs frames concurrently, as API Gateway does: wait for each answer in turn.
            if not _ask(aws, {"action": "accept", "conversation_id": conversation_id}, "assigned", stash=offers):
                self.agent_errors += 1
                print("agent: accept refused", file=sys.stderr)
                return
            replies = ["Hello, this is customer service. Let me look into that for you.",
                       "All sorted now. Is there anything else I can help with?"]
            for n, text in enumerate(replies, 1):
                if n == 1:
                    self.clock.advance_ms(int(self.rng.uniform(15, 60) * 1000))
                else:
                    self.clock.set_ms(handoff_ms + int((wait_s + handle_s) * 1000))
                _ask(aws, {"action": "reply", "conversation_id": conversation_id,
                           "client_msg_id": f"{agent}-{conversation_id}-{n}", "text": text}, "ack", stash=offers)
                _wait_for(customer_ws, lambda f: f.get("type") == "message"
                          and f["message"]["sender"]["type"] == "agent", timeout=5)
            self.clock.advance_ms(int(self.rng.uniform(20, 60) * 1000))
            if not _ask(aws, {"action": "resolve", "conversation_id": conversation_id}, "resolved", stash=offers):
                self.agent_errors += 1
                print("agent: resolve refused", file=sys.stderr)
                return
            self.resolved_by_agents += 1
            if self.rng.random() < 0.55:
                self.clock.advance_ms(int(self.rng.uniform(30, 300) * 1000))
                # Long waits and long handling cost satisfaction.
                mood = 4.6 - wait_s / 300 - handle_s / 900 + self.rng.gauss(0, 0.8)
                score = max(1, min(5, round(mood)))
                rate: dict[str, Any] = {"action": "rate", "conversation_id": conversation_id, "score": score}
                if self.rng.random() < 0.5:
                    rate["nps"] = max(0, min(10, round(mood * 2 + self.rng.gauss(0, 1))))
                if _ask(customer_ws, rate, "rated", timeout=5):
                    self.ratings += 1
            while offers:  # conversations offered meanwhile (social contacts waiting): answer them too
                _handle_blind(self, aws, agent, offers.pop(0)["conversation_id"], offers)
            aws.send(json.dumps({"action": "setStatus", "status": "offline"}))
            _wait_for(aws, lambda f: False, timeout=0.2)

    def _await_answers(self, ws: Any, client_msg_id: str) -> bool:
        """Wait for the ack, then briefly for the bot's answer (so it is stamped at this moment)."""
        acked = bot = False
        answer_deadline = time.monotonic()
        wait = self.bot_wait if (self._bot_seen or self._sessions_without_bot < 3) else 0.05
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            timeout = max(0.01, (deadline if not acked else min(deadline, answer_deadline)) - time.monotonic())
            try:
                frame = json.loads(ws.recv(timeout=timeout))
            except TimeoutError:
                break
            kind = frame.get("type")
            if kind == "ack" and frame.get("client_msg_id") == client_msg_id:
                acked = True
                self._conversation = frame.get("conversation_id")
                self.acked += 1
                answer_deadline = time.monotonic() + wait
            elif kind == "error":
                self.errors += 1
                break
            elif kind == "message" and frame["message"]["sender"]["type"] != "customer":
                bot = True
                self._bot_seen = True
                self.bot_replies += 1
                if frame["message"].get("text") in self._handoff_texts:
                    self._handed_over = True
                if acked:
                    break
        return bot


def _handle_blind(self: Simulator, aws: Any, agent: str, conversation_id: str, offers: list[dict[str, Any]]) -> None:
    """Answer and resolve a conversation whose customer is not on a socket here (a social contact)."""
    self.clock.advance_ms(int(self.rng.uniform(30, 240) * 1000))
    if not _ask(aws, {"action": "accept", "conversation_id": conversation_id}, "assigned", stash=offers):
        self.agent_errors += 1
        print("agent: blind accept refused", file=sys.stderr)
        return
    self.clock.advance_ms(int(self.rng.uniform(15, 60) * 1000))
    _ask(aws, {"action": "reply", "conversation_id": conversation_id, "client_msg_id": f"{agent}-{conversation_id}-1",
               "text": "Hello, this is customer service. This is now sorted for you."}, "ack", stash=offers)
    self.clock.advance_ms(int(self.rng.uniform(90, 600) * 1000))
    if _ask(aws, {"action": "resolve", "conversation_id": conversation_id}, "resolved", stash=offers):
        self.resolved_by_agents += 1


def _ask(ws: Any, frame: dict[str, Any], answer: str, timeout: float = 10,
         stash: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """Send a frame and wait for its answer of type `answer` (None on an error frame or timeout)."""
    ws.send(json.dumps(frame))
    got = _wait_for(ws, lambda f: f.get("type") in (answer, "error"), timeout, stash)
    return got if got is not None and got.get("type") == answer else None


def _wait_for(ws: Any, accept: Any, timeout: float,
              stash: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The first frame matching `accept` within `timeout` seconds (others are skipped; offers kept in `stash`)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            return None
        if accept(frame):
            return frame
        if stash is not None and frame.get("type") == "offer":
            stash.append(frame)
    return None


def wait_for_bot(http_url: str, timeout: float) -> bool:
    """Wait until the bot's model is live (GET /kb shows a model); False when it is not within `timeout`."""
    from urllib.request import Request, urlopen

    from local.token import mint

    deadline = time.monotonic() + timeout
    while True:
        request = Request(f"{http_url.rstrip('/')}/kb",
                          headers={"Authorization": f"Bearer {mint('agent', 'sim-admin', role='admin')}"})
        try:
            with urlopen(request, timeout=10) as response:
                if json.loads(response.read()).get("model"):
                    return True
        except Exception:
            return False  # no bot API: nothing to wait for
        if time.monotonic() >= deadline:
            return False
        time.sleep(2)


def setup_desk(http_url: str, agents: list[str]) -> None:
    """Register the simulated agents (languages en, zh) and give offers time to be accepted."""
    from urllib.request import Request, urlopen

    from local.token import mint

    admin = mint("agent", "sim-admin", role="admin", name="Simulator")

    def put(path: str, body: dict[str, Any]) -> None:
        request = Request(f"{http_url.rstrip('/')}{path}", data=json.dumps(body).encode(), method="PUT",
                          headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"})
        with urlopen(request, timeout=10) as response:
            response.read()

    put("/admin/config", {"offer_timeout_seconds": 3600})
    for agent in agents:
        put(f"/admin/agents/{agent}", {"name": f"Agent {agent}", "languages": ["en", "zh"], "capacity": 5})


# --------------------------------------------------------------------------- the archive


class Archive:
    """Counts events on the stream and in the bucket of the local stack (boto3 against its moto)."""

    def __init__(self, aws_url: str, stage: str = "local") -> None:
        import boto3

        session = boto3.session.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                                        aws_access_key_id="testing", aws_secret_access_key="testing")
        self.s3 = session.client("s3", endpoint_url=aws_url)
        self.kinesis = session.client("kinesis", endpoint_url=aws_url)
        self.stream = f"cs-platform-{stage}-interactions"
        prefix = f"cs-platform-{stage}-analytics-"
        self.bucket = next(b["Name"] for b in self.s3.list_buckets()["Buckets"] if b["Name"].startswith(prefix))
        self._lines: dict[str, tuple[str, int]] = {}

    def published(self) -> int:
        total = 0
        for shard in self.kinesis.list_shards(StreamName=self.stream)["Shards"]:
            iterator = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=shard["ShardId"],
                                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=10000)
                total += len(page["Records"])
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return total

    def archived(self) -> int:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix="events/"):
            for obj in page.get("Contents", []):
                key, etag = obj["Key"], obj["ETag"]
                if self._lines.get(key, ("", 0))[0] != etag:
                    body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                    self._lines[key] = (etag, gzip.decompress(body).count(b"\n"))
        return sum(n for _, n in self._lines.values())

    def days(self) -> int:
        """Distinct dt= partitions holding archived events."""
        return len({key.split("/")[1] for key in self._lines})

    def poison(self) -> int:
        return self.s3.list_objects_v2(Bucket=self.bucket, Prefix="errors/").get("KeyCount", 0)

    def everything(self) -> bytes:
        """Every archived byte (decompressed), to check that no personal data got through."""
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                out.append(gzip.decompress(body) if obj["Key"].endswith(".gz") else body)
        return b"".join(out)


def burst(archive: Archive, aws_url: str, count: int, day: datetime, timeout: float) -> dict[str, Any]:
    """Pipeline capacity: publish `count` events at once (PutRecords batches of 500, as the functions do)
    and time them until the archive holds them all. They are dated `day`, outside the simulated period."""
    import boto3

    from chalicelib.analytics.publisher import InteractionPublisher
    from local.devserver import DEV_SECRETS

    kinesis = boto3.session.Session(region_name="us-east-1", aws_access_key_id="testing",
                                    aws_secret_access_key="testing").client("kinesis", endpoint_url=aws_url)
    publisher = InteractionPublisher(kinesis, archive.stream, DEV_SECRETS["PSEUDONYM_KEY"])
    events = [{"event_type": "message_in", "ts": (day + timedelta(seconds=i)).isoformat(),
               "conversation_id": f"conv_burst_{i // 4}", "customer_id": f"burst-{i % 97}", "channel": "app",
               "sender_type": "customer", "message_id": f"burst-{day:%Y%m%d}-{i}", "seq": i % 4 + 1,
               "text_length": 42} for i in range(count)]
    before = archive.archived()
    started = time.monotonic()
    result = publisher.publish_many(events)
    published_s = time.monotonic() - started
    deadline = started + timeout
    while archive.archived() - before < result.sent and time.monotonic() < deadline:
        time.sleep(0.2)
    archived = archive.archived() - before
    total_s = time.monotonic() - started
    return {"burst_events": count, "burst_sent": result.sent,
            "burst_publish_events_per_s": round(result.sent / published_s),
            "burst_archived": archived, "burst_end_to_end_seconds": round(total_s, 2),
            "burst_end_to_end_events_per_s": round(archived / total_s)}


def _has_webhooks(http_url: str) -> bool:
    """Whether the stack serves social webhooks (a GET handshake answers something other than 404)."""
    from urllib.error import HTTPError
    from urllib.request import urlopen

    try:
        with urlopen(f"{http_url.rstrip('/')}/webhooks/telegram", timeout=5):
            return True
    except HTTPError as exc:  # a missing route: 404, or API Gateway's 403 "Missing Authentication Token"
        return exc.code != 404 and b"Missing Authentication Token" not in exc.read()
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", help="first simulated UTC day (default: --days before today)")
    parser.add_argument("--ws", default=f"ws://127.0.0.1:{os.environ.get('WS_PORT', '8001')}")
    parser.add_argument("--clock", default=None, help="clock control URL (default: WS_PORT + 2 / CLOCK_PORT)")
    parser.add_argument("--aws", default=f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '4566')}",
                        help="the local stack's moto endpoint")
    parser.add_argument("--http", default=f"http://127.0.0.1:{os.environ.get('HTTP_PORT', '8000')}")
    parser.add_argument("--agents", type=int, default=4, help="simulated human agents (0: none)")
    parser.add_argument("--wait-bot", type=float, default=240.0,
                        help="seconds to wait for the bot's model to be trained before playing (0: don't)")
    parser.add_argument("--report", type=Path, help="render the month to this HTML file")
    parser.add_argument("--archive-timeout", type=float, default=120.0)
    parser.add_argument("--burst", type=int, default=0,
                        help="afterwards, publish this many events at once to measure the pipeline's capacity")
    args = parser.parse_args(argv)

    clock_url = args.clock or f"http://127.0.0.1:{os.environ.get('CLOCK_PORT', int(args.ws.rsplit(':', 1)[1]) + 2)}"
    clock = ClockClient(clock_url)
    clock.now_ms()  # fails early when the stack was not started with --simulated-clock
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = (datetime.fromisoformat(args.start).replace(tzinfo=UTC) if args.start
             else today - timedelta(days=args.days))
    sessions = plan_sessions(start, args.days, args.customers, args.seed)
    archive = Archive(args.aws)
    published_before, archived_before = archive.published(), archive.archived()
    print(f"simulating {len(sessions)} contacts of {args.customers} customers, "
          f"{start:%Y-%m-%d} - {start + timedelta(days=args.days):%Y-%m-%d}", file=sys.stderr, flush=True)

    agents = [f"sim-agent-{i + 1}" for i in range(args.agents)]
    if agents:
        try:
            setup_desk(args.http, agents)
        except Exception as exc:  # the agents domain is optional: customers and the bot still play
            print(f"no simulated agents ({type(exc).__name__}: {exc})", file=sys.stderr)
            agents = []
    if args.wait_bot > 0:
        print("waiting for the bot's model ...", file=sys.stderr, flush=True)
        if not wait_for_bot(args.http, args.wait_bot):
            print("  the bot is not trained: it will hand customers over", file=sys.stderr)
    simulator = Simulator(args.ws, clock, agents=agents, seed=args.seed,
                          http_url=args.http if _has_webhooks(args.http) else None)
    began = time.monotonic()
    for i, session in enumerate(sessions, 1):
        try:
            simulator.play(session)
        except Exception as exc:  # a refused or dropped socket: count it and go on
            simulator.errors += 1
            print(f"session {i} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if i % 50 == 0 or i == len(sessions):
            print(f"  {i}/{len(sessions)} contacts, {simulator.sent} messages", file=sys.stderr, flush=True)
    played = time.monotonic() - began
    clock.set_ms(max(int(time.time() * 1000), clock.now_ms()))  # back to the present, where the archive ends

    published = archive.published() - published_before
    deadline = time.monotonic() + args.archive_timeout
    archived = archive.archived() - archived_before
    while archived != published and time.monotonic() < deadline:
        time.sleep(0.5)
        # the stack's own sweeps may publish meanwhile (closing idle conversations): read both again
        archived = archive.archived() - archived_before
        published = archive.published() - published_before
    pipeline = time.monotonic() - began
    everything = archive.everything()
    typed = [value for s in sessions for value in s.pii]
    leaked = sum(1 for value in typed if value.encode() in everything)

    figures = {
        "contacts": len(sessions), "customers": args.customers, "messages_sent": simulator.sent,
        "acks": simulator.acked, "bot_replies": simulator.bot_replies, "errors": simulator.errors,
        "social_messages": simulator.social_messages,
        "handoffs": simulator.handoffs, "resolved_by_agents": simulator.resolved_by_agents,
        "ratings": simulator.ratings, "agent_errors": simulator.agent_errors,
        "events_published": published, "events_archived": archived, "archive_days": archive.days(),
        "poison_records": archive.poison(),
        "pii_typed": len(typed), "pii_found_in_archive": leaked, "play_seconds": round(played, 1),
        "publish_events_per_s": round(published / played, 1) if played else None,
        "archived_events_per_s": round(archived / pipeline, 1) if pipeline else None,
        "messages_per_s": round(simulator.sent / played, 1) if played else None,
    }
    if args.burst:
        figures.update(burst(archive, args.aws, args.burst, start - timedelta(days=60), args.archive_timeout))
    print(json.dumps(figures))
    if args.report:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ["AWS_ENDPOINT_URL"] = args.aws
        from chalicelib.cli import main as cli

        last = start + timedelta(days=args.days - 1)
        code = cli(["report", "--bucket", archive.bucket, "--from", f"{start:%Y-%m-%d}", "--to", f"{last:%Y-%m-%d}",
                    "--out", str(args.report), "--title", f"Customer service - simulated {args.days} days"])
        if code:
            return code
    return 0 if archived >= published and not leaked else 1


if __name__ == "__main__":
    sys.exit(main())
