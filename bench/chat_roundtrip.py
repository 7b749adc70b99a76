"""Round trip from `sendMessage` to `ack` against the local stack, and its AWS cost per message.

Starts the local stack in this process (so botocore hooks can count the app's AWS calls), then:
1. one customer sends N messages one after another (latency without contention);
2. C customers with two devices each send concurrently (latency and throughput under load).
Prints p50/p99 round-trip times, messages/s, AWS API calls and DynamoDB write units per message.

    python -m bench.chat_roundtrip [--messages 1000] [--clients 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid

from websockets.sync.client import connect

from bench.aws_calls import AwsCallCounter
from local.devserver import LocalStack, free_port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _ack(ws, client_msg_id: str) -> dict:
    while True:
        frame = json.loads(ws.recv(timeout=30))
        if frame.get("type") == "ack" and frame["client_msg_id"] == client_msg_id:
            return frame


def run_customer(url: str, token: str, count: int, rtts: list[float], second_device: bool) -> None:
    other = connect(f"{url}/?token={token}") if second_device else None
    with connect(f"{url}/?token={token}") as ws:
        for _ in range(count):
            client_msg_id = uuid.uuid4().hex
            started = time.perf_counter()
            ws.send(json.dumps({"action": "sendMessage", "client_msg_id": client_msg_id, "text": "where is my order?"}))
            _ack(ws, client_msg_id)
            rtts.append((time.perf_counter() - started) * 1000)
    if other:
        other.close()


def report(name: str, rtts: list[float], seconds: float, counter: AwsCallCounter, messages: int) -> dict:
    calls = sum(counter.calls.values())
    result = {
        "scenario": name, "messages": messages,
        "rtt_p50_ms": round(percentile(rtts, 50), 2), "rtt_p99_ms": round(percentile(rtts, 99), 2),
        "rtt_mean_ms": round(statistics.fmean(rtts), 2), "messages_per_s": round(messages / seconds, 1),
        "aws_calls_per_message": round(calls / messages, 2),
        "dynamodb_write_units_per_message": round(counter.write_units / messages, 2),
        "calls_by_operation_per_message": {k: round(v / messages, 2) for k, v in sorted(counter.calls.items())},
    }
    print(json.dumps(result, indent=2), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="messages in the sequential run (>= 1000)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent customers in the load run")
    parser.add_argument("--per-client", type=int, default=100)
    args = parser.parse_args()

    stack = LocalStack("127.0.0.1", free_port(), free_port(), free_port(), free_port())
    counter = AwsCallCounter()
    try:
        urls = stack.start()
        from chalicelib import wiring
        from local.token import mint

        wiring.reset()
        counter.attach(wiring.session())
        ws_url = urls["ws"]
        print(f"local stack: {ws_url}", flush=True)

        run_customer(ws_url, mint("customer", "bench-warmup"), 20, [], second_device=True)  # warm caches

        counter.reset()
        rtts: list[float] = []
        started = time.perf_counter()
        run_customer(ws_url, mint("customer", "bench-seq"), args.messages, rtts, second_device=True)
        report("sequential, 1 customer with 2 devices", rtts, time.perf_counter() - started, counter, args.messages)

        counter.reset()
        rtts = []
        threads = [threading.Thread(target=run_customer, args=(ws_url, mint("customer", f"bench-{i}"),
                                                               args.per_client, rtts, True))
                   for i in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = args.clients * args.per_client
        report(f"concurrent, {args.clients} customers with 2 devices", rtts, time.perf_counter() - started,
               counter, total)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
