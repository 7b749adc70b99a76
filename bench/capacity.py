"""Capacity model: peak DynamoDB units per partition key, and SQS, Kinesis, API Gateway rates, at a profile.

1. **Measure** (`measure()`): start the local stack in this process and play whole conversations over
   real WebSockets, counting every AWS call with `bench.key_load` (units per partition-key pattern and
   GSI) and every Lambda invocation with its duration:
   - *bot-contained*: a customer connects, asks the sample shop's bot `--bot-messages` questions, each
     answered, and leaves;
   - *escalated*: a customer asks one question, asks for a human, the (online) agent gets the offer,
     accepts, they exchange `--agent-turns` messages each way, the agent resolves, the customer rates.
2. **Model** (`model()`): per conversation of each kind, scaled to the profile (default 100,000
   concurrent customers, 5,000 customer messages/s at peak, 70 % bot-contained): conversations/s =
   messages/s / customer messages per conversation (mixed), and by Little's law a conversation lasts
   customers / conversations/s. A **shared** key pattern (no id in it, e.g. `QUEUE#WAITING`,
   `STATS#<day>#<n>`, the `AGENTS#ONLINE` GSI partition) takes the whole pattern's rate on one partition,
   or 1/N of it where the key is written to N shards at random; a per-id pattern takes, per key, what one
   conversation puts on its busiest key spread over the conversation's life.
3. **Print** the table against 1,000 WCU/s and 3,000 RCU/s per partition, plus the other services' rates
   against their quotas, and write the measurement to `--out` (JSON) for `bench.cost`.

    python -m bench.capacity [--bot-conversations 8] [--escalated 4] [--out bench/results/capacity.json]
    python -m bench.capacity --from bench/results/capacity.json      # the model only, on a measurement
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.key_load import KeyLoadRecorder, is_shared
from chalicelib.bot.sample_kb import SAMPLE_KB_PATH

ROOT = Path(__file__).resolve().parent.parent
WCU_LIMIT = 1000
RCU_LIMIT = 3000
# Questions the sample KB answers from its text in one turn (its order and refund intents run an action that
# first asks for the order number: a second turn the model's per-message figures do not assume).
QUESTIONS = ["how much is shipping", "how do I return an item", "how long does delivery take",
             "which payment methods do you accept", "how do I reset my password", "do you have a coupon"]


@dataclass(frozen=True)
class Profile:
    customers: int = 100_000
    messages_per_s: float = 5_000  # customer messages at peak
    bot_contained: float = 0.70
    agents: int = 5_000  # online at peak: the escalated conversations' load is spread over them


def shards_of(key_pattern: str) -> int:
    """How many partitions a shared pattern's writes are spread over (at random), from the key grammar."""
    from chalicelib.store import keys

    declared = {"STATS#<day>#<n>": keys.LIVE_STATS_SHARDS, "QUEUE#WAITING#<n>": keys.WAITING_QUEUE_SHARDS,
                "AGENTS#ONLINE#<n>": keys.ONLINE_AGENT_SHARDS, "AGENTS#<n>": keys.AGENT_LIST_SHARDS,
                "IDLE#SHARD#<n>": keys.IDLE_SHARDS, "MISSES#<day>#<n>": keys.MISS_SHARDS}
    if key_pattern.startswith("CONTACTS#") and key_pattern.endswith("#<n>"):  # CONTACTS#<channel>#<n>
        return keys.CONTACT_SHARDS
    return declared.get(key_pattern, 1)


# -- measurement -------------------------------------------------------------------------------------


class Socket:
    """A WebSocket with a reader thread: frames kept in order, waited for with a deadline."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self._ws = connect(url, ping_interval=None, open_timeout=30)
        self.frames: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self._ws:
                with self._changed:
                    self.frames.append(json.loads(raw))
                    self._changed.notify_all()
        except Exception:  # closed
            return

    def send(self, frame: dict[str, Any]) -> None:
        self._ws.send(json.dumps(frame))

    def wait(self, predicate: Any, timeout: float = 60.0, after: int = 0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for frame in self.frames[after:]:
                    if predicate(frame):
                        return frame
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching frame within {timeout} s; last: {self.frames[-3:]}")
                self._changed.wait(left)

    def close(self) -> None:
        self._ws.close()


def _is(kind: str, **fields: Any) -> Any:
    return lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())


def _bot_message(f: dict[str, Any]) -> bool:
    return f.get("type") == "message" and (f.get("message") or {}).get("sender", {}).get("type") == "bot"


def _ask(ws: Socket, text: str, *, expect_bot: bool) -> dict[str, Any]:
    mark = len(ws.frames)
    cmid = uuid.uuid4().hex
    ws.send({"action": "sendMessage", "client_msg_id": cmid, "text": text})
    ack = ws.wait(_is("ack", client_msg_id=cmid), after=mark)
    if expect_bot:
        ws.wait(_bot_message, after=mark)
    return ack


def bot_conversation(ws_url: str, token: str, messages: int) -> int:
    ws = Socket(f"{ws_url}/?token={token}")
    try:
        for n in range(messages):
            _ask(ws, QUESTIONS[n % len(QUESTIONS)], expect_bot=True)
    finally:
        ws.close()
    return messages


def escalated_conversation(ws_url: str, token: str, agent: Socket, turns: int) -> int:
    ws = Socket(f"{ws_url}/?token={token}")
    try:
        conversation = _ask(ws, QUESTIONS[0], expect_bot=True)["conversation_id"]
        offered_from = len(agent.frames)
        ws.send({"action": "requestHuman", "client_msg_id": uuid.uuid4().hex, "language": "en"})
        ws.wait(_is("escalation"))
        agent.wait(lambda f: f.get("type") == "offer" and f.get("conversation_id") == conversation,
                   after=offered_from)
        agent.send({"action": "accept", "conversation_id": conversation})
        agent.wait(_is("assigned"), after=offered_from)
        for n in range(turns):
            _ask(ws, f"my order {n} is late", expect_bot=False)
            mark = len(agent.frames)
            agent.send({"action": "reply", "conversation_id": conversation, "client_msg_id": uuid.uuid4().hex,
                        "text": "Let me check that for you"})
            agent.wait(_is("ack", conversation_id=conversation), after=mark)
        mark = len(agent.frames)
        agent.send({"action": "resolve", "conversation_id": conversation})
        agent.wait(_is("resolved"), after=mark)
        mark = len(ws.frames)
        ws.send({"action": "rate", "score": 5, "comment": "thanks"})
        ws.wait(_is("rated"), after=mark)
    finally:
        ws.close()
    return 1 + turns + 1  # the question, the request for a human, the turns, the rating


class InvocationTimer:
    """Counts and times every Lambda invocation the local runtime makes (gateway and pollers)."""

    def __init__(self) -> None:
        self.count = 0
        self.ms: list[float] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        import local.gateway
        import local.pollers
        from local.lambda_runtime import invoke

        def timed(handler: Any, event: dict[str, Any], function_name: str, timeout_seconds: int = 30) -> Any:
            started = time.perf_counter()
            try:
                return invoke(handler, event, function_name, timeout_seconds)
            finally:
                with self._lock:
                    self.count += 1
                    self.ms.append((time.perf_counter() - started) * 1000)

        local.gateway.invoke = timed  # type: ignore[assignment]
        local.pollers.invoke = timed  # type: ignore[assignment]

    def take(self) -> dict[str, float]:
        with self._lock:
            ms, self.ms, count, self.count = self.ms, [], self.count, 0
        return {"invocations": count, "ms_total": round(sum(ms), 1)}


class LogMeter:
    """Counts the bytes the functions log to stdout (what CloudWatch Logs would ingest), by kind.

    `emf` are Powertools Metrics' embedded-metric lines, `info` the INFO/DEBUG lines (production logs
    at WARNING, so they are not ingested there), `warning` the rest of the JSON lines.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._partial = ""
        self.bytes: dict[str, int] = {"emf": 0, "info": 0, "warning": 0}
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            *lines, self._partial = self._partial.split("\n")
            for line in lines:
                if not line.startswith("{"):
                    continue
                kind = "emf" if '"_aws"' in line else (
                    "info" if line.startswith(('{"level":"INFO"', '{"level":"DEBUG"')) else "warning")
                self.bytes[kind] += len(line.encode()) + 1
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    @property
    def inner(self) -> Any:
        return self._stream

    def take(self) -> dict[str, int]:
        with self._lock:
            taken, self.bytes = self.bytes, {"emf": 0, "info": 0, "warning": 0}
        return {f"log_bytes_{k}": v for k, v in taken.items()}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _wait_for_model(table: str, timeout: float = 1200.0) -> None:
    """The sample KB's model trains in the background at start-up: poll for its live pointer."""
    import boto3

    from chalicelib.store import keys

    db = boto3.session.Session().client("dynamodb")
    deadline = time.monotonic() + timeout
    key = {"pk": {"S": keys.kb_pk()}, "sk": {"S": keys.MODEL_CURRENT_SK}}
    while not db.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item"):
        if time.monotonic() > deadline:
            raise TimeoutError("the sample knowledge base's model was not trained in time")
        time.sleep(0.5)
    time.sleep(1.5)  # serving looks for a model every second while it has none


def _settle(recorder: KeyLoadRecorder, quiet_s: float = 1.5, timeout: float = 60.0) -> None:
    """Wait until no AWS call has been made for `quiet_s` (the pollers' archive and analytics finish)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        now = sum(recorder.load.calls.values())
        if now == last:
            return
        last = now
        time.sleep(quiet_s)  # a quiet period is what is being measured, not a wait for a result


def measure(bot_conversations: int = 8, bot_messages: int = 4, escalated: int = 4, agent_turns: int = 3) -> dict:
    import sys

    from local.devserver import LocalStack, free_port

    timer = InvocationTimer()
    timer.install()
    logs = LogMeter(sys.stdout)
    sys.stdout = logs  # before the stack imports the app: Powertools' Logger keeps the stream it finds
    stack = LocalStack("127.0.0.1", free_port(), free_port(), free_port(), free_port(),
                       fake_platforms_port=free_port(), web_port=free_port())
    try:
        urls = stack.start()
        from chalicelib import services as composition
        from local.token import mint

        built = composition.services()
        recorder = KeyLoadRecorder()
        recorder.attach(built.session, [built.client(n) for n in ("dynamodb", "kinesis", "sqs", "s3")])
        ws_url = urls["ws"]
        _wait_for_model(urls["table"])
        warm = Socket(f"{ws_url}/?token={mint('customer', 'cap-warmup')}")
        answers = {i["answers"]["en"] for i in json.loads(SAMPLE_KB_PATH.read_text())["intents"].values()}
        for question in QUESTIONS:
            mark = len(warm.frames)
            _ask(warm, question, expect_bot=True)
            reply = warm.wait(_bot_message, after=mark)["message"]["text"]
            if reply not in answers:  # a hand-off would escalate and skew the measurement: stop instead
                raise RuntimeError(f"the bot did not answer the warm-up question {question!r}: {reply!r}")
        warm.close()
        agent = Socket(f"{ws_url}/?as=agent&token={mint('agent', 'amy', role='agent')}")
        agent.send({"action": "setStatus", "status": "online"})
        agent.wait(_is("status", status="online"), 30)
        _settle(recorder)
        recorder.reset()
        timer.take()
        logs.take()

        result: dict[str, Any] = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        messages = sum(bot_conversation(ws_url, mint("customer", f"cap-b{i:02d}"), bot_messages)
                       for i in range(bot_conversations))
        _settle(recorder)
        result["bot"] = {"conversations": bot_conversations, "customer_messages": messages,
                         **timer.take(), **logs.take(), **recorder.load.as_dict()}
        recorder.reset()

        messages = sum(escalated_conversation(ws_url, mint("customer", f"cap-e{i:02d}"), agent, agent_turns)
                       for i in range(escalated))
        _settle(recorder)
        result["escalated"] = {"conversations": escalated, "customer_messages": messages,
                               "agent_messages": escalated * agent_turns, **timer.take(), **logs.take(),
                               **recorder.load.as_dict()}
        agent.close()
        return result
    finally:
        stack.stop()
        sys.stdout = logs.inner


# -- the model ---------------------------------------------------------------------------------------


def rates(measured: dict, profile: Profile) -> dict[str, float]:
    bot, esc = measured["bot"], measured["escalated"]
    per_conv = {k: measured[k]["customer_messages"] / measured[k]["conversations"] for k in ("bot", "escalated")}
    mean_messages = profile.bot_contained * per_conv["bot"] + (1 - profile.bot_contained) * per_conv["escalated"]
    conversations_per_s = profile.messages_per_s / mean_messages
    return {
        "conversations_per_s": conversations_per_s,
        "bot": conversations_per_s * profile.bot_contained / bot["conversations"],  # scale of one scenario run
        "escalated": conversations_per_s * (1 - profile.bot_contained) / esc["conversations"],
        "conversation_s": profile.customers / conversations_per_s,
    }


def model(measured: dict, profile: Profile) -> list[dict[str, Any]]:
    """One row per (index, key pattern): peak units/s in all and on its busiest partition, against the limits."""
    r = rates(measured, profile)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in ("bot", "escalated"):
        for key in measured[kind]["keys"]:
            slot = (key["index"], key["pattern"])
            row = rows.setdefault(slot, {"index": slot[0], "pattern": slot[1], "rcu_s": 0.0, "wcu_s": 0.0,
                                         "values_per_conversation": 0.0})
            row["rcu_s"] += key["rcu"] * r[kind]
            row["wcu_s"] += key["wcu"] * r[kind]
            row["values_per_conversation"] = max(row["values_per_conversation"],
                                                 key["values"] / measured[kind]["conversations"])
    out = []
    for row in rows.values():
        shared = is_shared(row["pattern"])
        if shared:
            spread = shards_of(row["pattern"])
        elif row["pattern"].startswith("AGENT#<id>"):  # one agent's keys: the desk's load over its agents
            spread = float(profile.agents)
        else:  # one id's key carries one conversation's load for the conversation's life
            spread = max(1.0, r["conversations_per_s"] * r["conversation_s"] * row["values_per_conversation"])
        row.update(shared=shared, partitions=spread, partition_rcu_s=row["rcu_s"] / spread,
                   partition_wcu_s=row["wcu_s"] / spread)
        row["load"] = max(row["partition_rcu_s"] / RCU_LIMIT, row["partition_wcu_s"] / WCU_LIMIT)
        out.append(row)
    return sorted(out, key=lambda row: -row["load"])


def services_table(measured: dict, profile: Profile) -> list[tuple[str, float, str]]:
    r = rates(measured, profile)

    def total(field: str) -> float:
        return sum(measured[k].get(field, 0) * r[k] for k in ("bot", "escalated"))

    kinesis_records, kinesis_mb = total("kinesis_records"), total("kinesis_bytes") / 1e6
    return [
        ("API Gateway WebSocket new connections/s", r["conversations_per_s"],
         "500/s per account and Region (adjustable): ask for a raise before this peak"),
        ("API Gateway WebSocket messages in/s", total("customer_messages") + total("agent_messages"),
         "10,000 requests/s per account and Region (adjustable)"),
        ("API Gateway @connections posts/s", total("apigw_posts"), "same account-level 10,000 requests/s"),
        ("Lambda invocations/s", total("invocations"), "concurrency = invocations/s x duration (1,000 default)"),
        ("SQS messages sent/s", total("sqs_messages"), "standard queues: no per-queue rate limit"),
        ("Kinesis records/s", kinesis_records, f"on-demand: 4,000 records/s and 4 MB/s at first, auto-scales "
                                               f"(this is {kinesis_mb:.2f} MB/s); 1,000 records/s per shard"),
    ]


def print_report(measured: dict, profile: Profile) -> list[dict[str, Any]]:
    r = rates(measured, profile)
    print(f"profile: {profile.customers:,} concurrent customers, {profile.messages_per_s:,.0f} customer messages/s"
          f" at peak, {profile.bot_contained:.0%} bot-contained, {profile.agents:,} agents online")
    for kind in ("bot", "escalated"):
        m = measured[kind]
        print(f"  measured {kind}: {m['conversations']} conversations, "
              f"{m['customer_messages'] / m['conversations']:.1f} customer messages each")
    print(f"  -> {r['conversations_per_s']:,.0f} conversations/s, each lasting {r['conversation_s']:.0f} s\n")
    rows = model(measured, profile)
    header = (f"{'index':6} {'key pattern':30} {'kind':7} {'RCU/s all':>10} {'WCU/s all':>10} {'parts':>8} "
              f"{'RCU/s/part':>10} {'WCU/s/part':>10} {'of limit':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        flag = "  HOT" if row["load"] > 1 else ("  warm" if row["load"] > 0.5 else "")
        parts = f"{row['partitions']:.0f}" if row["shared"] else f"{row['partitions']:.1e}"
        print(f"{row['index']:6} {row['pattern'][:30]:30} {'shared' if row['shared'] else 'per-id':7} "
              f"{row['rcu_s']:10.0f} {row['wcu_s']:10.0f} {parts:>8} {row['partition_rcu_s']:10.1f} "
              f"{row['partition_wcu_s']:10.1f} {row['load']:8.0%}{flag}")
    print(f"\nlimits per partition: {RCU_LIMIT:,} RCU/s, {WCU_LIMIT:,} WCU/s; HOT = over, warm = over half\n")
    for name, value, quota in services_table(measured, profile):
        print(f"{name:42} {value:10,.0f}   {quota}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", help="a measurement written by --out: run the model only")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "capacity.json"))
    parser.add_argument("--bot-conversations", type=int, default=8)
    parser.add_argument("--bot-messages", type=int, default=4)
    parser.add_argument("--escalated", type=int, default=4)
    parser.add_argument("--agent-turns", type=int, default=3)
    parser.add_argument("--customers", type=int, default=Profile.customers)
    parser.add_argument("--messages-per-s", type=float, default=Profile.messages_per_s)
    parser.add_argument("--bot-contained", type=float, default=Profile.bot_contained)
    parser.add_argument("--agents", type=int, default=Profile.agents)
    args = parser.parse_args()
    if args.source:
        measured = json.loads(Path(args.source).read_text())
    else:
        measured = measure(args.bot_conversations, args.bot_messages, args.escalated, args.agent_turns)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(measured, indent=1))
        print(f"measurement written to {args.out}\n")
    print_report(measured, Profile(args.customers, args.messages_per_s, args.bot_contained, args.agents))


if __name__ == "__main__":
    main()
