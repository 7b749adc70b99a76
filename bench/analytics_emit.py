"""Per-event publishing vs one PutRecords per invocation: AWS calls and time added to an invocation.

    .venv/bin/python -m bench.analytics_emit --invocations 200

Starts moto in server mode (real HTTP, like the local stack), provisions the stack and emits what one
customer message with a bot answer produces (message_in, message_out, bot_decision) per simulated
invocation, either sent at once per event or buffered and flushed when the invocation ends (what
`chalicelib.observability.middleware` does). Prints calls per invocation and p50/p99 milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _events(i: int) -> list[dict]:
    ts = "2026-11-02T10:00:00.000Z"
    common = {"ts": ts, "conversation_id": f"conv_bench_{i}", "customer_id": f"bench-{i % 50}", "channel": "app"}
    return [
        {**common, "event_type": "message_in", "sender_type": "customer", "message_id": f"m{i}a", "seq": 1,
         "text_length": 20},
        {**common, "event_type": "bot_decision", "message_id": f"m{i}a", "intent": "order_status",
         "confidence": 0.9, "action": "answer"},
        {**common, "event_type": "message_out", "sender_type": "bot", "message_id": f"m{i}b", "seq": 2,
         "text_length": 60},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invocations", type=int, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import boto3

    from bench.aws_calls import AwsCallCounter
    from infra.provision import lambda_environment, provision
    from local.devserver import DEV_SECRETS, free_port, start_moto

    port = free_port()
    moto = start_moto("127.0.0.1", port, ROOT / ".local-data" / "moto-bench.log")
    try:
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", **lambda_environment("local", ROOT),
                           "PSEUDONYM_KEY": DEV_SECRETS["PSEUDONYM_KEY"], "POWERTOOLS_METRICS_DISABLED": "true"})
        provision(boto3.session.Session(region_name="us-east-1"), "local")
        from chalicelib import services as composition
        from chalicelib.analytics import emit

        composition.reset()
        counter = AwsCallCounter()
        counter.attach(composition.services().session)
        built = composition.services()
        _ = built.interaction_publisher, built.live_counters  # clients made outside the timing
        for mode in ("per-event", "batched"):
            counter.reset()
            timings = []
            for i in range(args.invocations):
                started = time.perf_counter()
                if mode == "batched":
                    with emit.batch():
                        for event in _events(i):
                            emit.emit(event)
                else:
                    for event in _events(i):
                        emit.emit(event)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            calls = {k: round(v / args.invocations, 2) for k, v in sorted(counter.calls.items())}
            p99 = timings[int(len(timings) * 0.99) - 1]
            print(f"{mode:<10} p50 {statistics.median(timings):6.1f} ms  p99 {p99:6.1f} ms per invocation "
                  f"(3 events); calls per invocation: {calls}")
    finally:
        moto.terminate()
        moto.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
