"""Round trip from `sendMessage` to `ack` against the local stack, and its AWS cost per message.

Starts the local stack in this process (so botocore hooks can count the app's AWS calls); the clients
run in other processes, so they do not compete with the stack for this process's GIL. Then:
1. one customer sends N messages one after another (latency without contention);
2. C customers with two devices each send concurrently (latency and throughput under load).
Prints p50/p99 round-trip times, messages/s, AWS API calls and DynamoDB write units per message.

    python -m bench.chat_roundtrip [--messages 1000] [--clients 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor

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


def _drain(ws) -> None:
    """A second device that reads what it is sent, as a real client does (else its socket backs up)."""
    try:
        for _ in ws:
            pass
    except Exception:  # closed at the end of the run
        return


def run_customer(url: str, token: str, count: int, rtts: list[float], second_device: bool,
                 errors: list[str] | None = None) -> None:
    other = connect(f"{url}/?token={token}", ping_interval=None) if second_device else None
    if other:
        threading.Thread(target=_drain, args=(other,), daemon=True).start()
    try:
        with connect(f"{url}/?token={token}", ping_interval=None) as ws:
            for _ in range(count):
                client_msg_id = uuid.uuid4().hex
                started = time.perf_counter()
                ws.send(json.dumps({"action": "sendMessage", "client_msg_id": client_msg_id,
                                    "text": "where is my order?"}))
                _ack(ws, client_msg_id)
                rtts.append((time.perf_counter() - started) * 1000)
    except Exception as exc:  # reported, not hidden: a failed client lowers the message count
        if errors is None:
            raise
        errors.append(repr(exc))
    finally:
        if other:
            other.close()


def _customer_process(url: str, token: str, count: int) -> tuple[list[float], list[str]]:
    rtts: list[float] = []
    errors: list[str] = []
    run_customer(url, token, count, rtts, True, errors)
    return rtts, errors


def report(name: str, rtts: list[float], seconds: float, counter: AwsCallCounter, errors: list[str]) -> dict:
    messages = len(rtts)
    calls = sum(counter.calls.values())
    result = {
        "scenario": name, "messages": messages, "client_errors": len(errors),
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
        from chalicelib import services as composition
        from local.token import mint

        # Start-up work (the sample knowledge base) may have made clients already: count on those too.
        built = composition.services()
        counter.attach(built.session, [built.client(name) for name in ("dynamodb", "kinesis", "sqs", "s3")])
        ws_url = urls["ws"]
        print(f"local stack: {ws_url}", flush=True)

        run_customer(ws_url, mint("customer", "bench-warmup"), 20, [], second_device=True)  # warm caches

        counter.reset()
        rtts: list[float] = []
        started = time.perf_counter()
        errors: list[str] = []
        run_customer(ws_url, mint("customer", "bench-seq"), args.messages, rtts, True, errors)
        report("sequential, 1 customer with 2 devices", rtts, time.perf_counter() - started, counter, errors)

        counter.reset()
        rtts, errors = [], []
        started = time.perf_counter()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.clients, mp_context=context) as pool:
            futures = [pool.submit(_customer_process, ws_url, mint("customer", f"bench-{i}"), args.per_client)
                       for i in range(args.clients)]
            for future in futures:
                client_rtts, client_errors = future.result()
                rtts.extend(client_rtts)
                errors.extend(client_errors)
        report(f"concurrent, {args.clients} customers with 2 devices", rtts, time.perf_counter() - started,
               counter, errors)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
