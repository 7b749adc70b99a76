"""Cost per million customer messages, from a `bench.capacity` measurement and AWS list prices.

Per customer message of each kind of conversation measured (bot-contained: the bot answers every
message; escalated: a human agent answers), and for the profile's mix: Lambda requests and GB-seconds
(the invocations and their measured durations, at the stage's memory), API Gateway WebSocket messages
(each frame in and each post out, in 32 KB units) and connection minutes (Little's law at the profile),
DynamoDB on-demand write and read request units (table and GSIs, from `bench.key_load`), SQS requests,
Kinesis on-demand ingest and retrieval, S3 PUTs and CloudWatch Logs ingestion (the bytes the functions
logged, at the production log level WARNING: metric lines and warnings).

Durations are measured on the local stack (moto over HTTP on this machine), which is slower than
DynamoDB in a Region, so Lambda GB-s is an upper bound.

    python -m bench.cost [--from bench/results/capacity.json] [--memory-mb 1024]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.capacity import ROOT, Profile

# us-east-1 list prices in USD, from the AWS pricing pages as of 2025-11 (on-demand DynamoDB after the
# November 2024 reduction). This machine has no internet access to re-check them: see docs/capacity.md.
PRICES_DATE = "2025-11 (us-east-1 list prices)"
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s": 0.0000166667,  # x86
    "apigw_ws_message": 1.00 / 1e6,  # first billion; metered in 32 KB units, in and out
    "apigw_ws_connection_minute": 0.25 / 1e6,
    "dynamodb_wru": 0.625 / 1e6,
    "dynamodb_rru": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,  # standard, 64 KB units
    "kinesis_gb_in": 0.08,  # on-demand: data in
    "kinesis_gb_out": 0.04,  # on-demand: data retrieved
    "s3_put": 0.005 / 1000,
    "logs_gb": 0.50,  # CloudWatch Logs standard ingestion
}


ARCHIVE_BATCH = 500  # app.py: the archive's Kinesis event source (batch_size=500, 30 s window)


def per_message(measured: dict[str, Any], kind: str, profile: Profile, memory_mb: int,
                lambda_ms: float | None = None) -> dict[str, float]:
    """USD per customer message of one kind of conversation, by line item.

    The local pollers archive every few records (one S3 object and one invocation each); deployed, the
    archive takes batches of 500: its invocations and S3 PUTs are counted as deployed. `lambda_ms`
    replaces the measured mean duration (moto on a busy laptop is far slower than DynamoDB in a Region).
    """
    m = measured[kind]
    n = m["customer_messages"]
    local_archives = m["calls"].get("s3.PutObject", 0)
    archives = m["kinesis_records"] / ARCHIVE_BATCH
    invocations = m["invocations"] - local_archives + archives
    mean_ms = lambda_ms if lambda_ms is not None else m["ms_total"] / max(1, m["invocations"])
    wru = sum(k["wcu"] for k in m["keys"])
    rru = sum(k["rcu"] for k in m["keys"])
    frames_in = n + m.get("agent_messages", 0)
    posts = m["apigw_posts"] + max(0, m["apigw_post_bytes"] // 32768)
    connection_minutes = profile.customers / (profile.messages_per_s * 60)  # per customer message
    sqs_requests = m["calls"].get("sqs.SendMessage", 0) + m["calls"].get("sqs.SendMessageBatch", 0) \
        + m["calls"].get("sqs.DeleteMessage", 0) + m["calls"].get("sqs.DeleteMessageBatch", 0) \
        + m["sqs_messages"]  # the event source mapping's receive of each message
    logs = m.get("log_bytes_emf", 0) + m.get("log_bytes_warning", 0) + 260 * invocations  # + START/END/REPORT
    return {
        "lambda_requests": PRICES["lambda_request"] * invocations / n,
        "lambda_gb_s": PRICES["lambda_gb_s"] * invocations * (mean_ms / 1000) * (memory_mb / 1024) / n,
        "apigw_websocket": PRICES["apigw_ws_message"] * (frames_in + posts) / n
        + PRICES["apigw_ws_connection_minute"] * connection_minutes,
        "dynamodb_writes": PRICES["dynamodb_wru"] * wru / n,
        "dynamodb_reads": PRICES["dynamodb_rru"] * rru / n,
        "sqs": PRICES["sqs_request"] * sqs_requests / n,
        "kinesis": (PRICES["kinesis_gb_in"] + PRICES["kinesis_gb_out"]) * m["kinesis_bytes"] / 1e9 / n,
        "s3": PRICES["s3_put"] * archives / n,
        "cloudwatch_logs": PRICES["logs_gb"] * logs / 1e9 / n,
    }


def units(measured: dict[str, Any], kind: str) -> dict[str, float]:
    m = measured[kind]
    n = m["customer_messages"]
    return {"aws_calls": sum(m["calls"].values()) / n, "wru": sum(k["wcu"] for k in m["keys"]) / n,
            "rru": sum(k["rcu"] for k in m["keys"]) / n, "invocations": m["invocations"] / n,
            "lambda_ms": m["ms_total"] / m["invocations"] if m["invocations"] else 0.0}


def report(measured: dict[str, Any], profile: Profile, memory_mb: int,
           lambda_ms: float | None = None) -> dict[str, dict[str, float]]:
    kinds = {"bot answers": "bot", "agent answers": "escalated"}
    table = {label: per_message(measured, kind, profile, memory_mb, lambda_ms) for label, kind in kinds.items()}
    mix = {item: profile.bot_contained * table["bot answers"][item]
           + (1 - profile.bot_contained) * table["agent answers"][item] for item in table["bot answers"]}
    table[f"mix ({profile.bot_contained:.0%} bot)"] = mix
    duration = f"{lambda_ms:.0f} ms per invocation (assumed)" if lambda_ms is not None else "durations as measured"
    print(f"USD per million customer messages; prices {PRICES_DATE}; Lambda at {memory_mb} MB, {duration}\n")
    labels = list(table)
    print(f"{'line item':18}" + "".join(f"{label:>18}" for label in labels))
    for item in table["bot answers"]:
        print(f"{item:18}" + "".join(f"{table[label][item] * 1e6:18.2f}" for label in labels))
    print(f"{'total':18}" + "".join(f"{sum(table[label].values()) * 1e6:18.2f}" for label in labels))
    print()
    for label, kind in kinds.items():
        u = units(measured, kind)
        print(f"per customer message ({label}): {u['aws_calls']:.1f} AWS calls, {u['wru']:.1f} WRU, "
              f"{u['rru']:.1f} RRU, {u['invocations']:.2f} invocations of {u['lambda_ms']:.0f} ms (local)")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", default=str(ROOT / "bench" / "results" / "capacity.json"))
    parser.add_argument("--memory-mb", type=int, default=1024, help="the prod stage's lambda_memory_size")
    parser.add_argument("--lambda-ms", type=float, help="mean billed duration instead of the measured one")
    parser.add_argument("--customers", type=int, default=Profile.customers)
    parser.add_argument("--messages-per-s", type=float, default=Profile.messages_per_s)
    parser.add_argument("--bot-contained", type=float, default=Profile.bot_contained)
    args = parser.parse_args()
    measured = json.loads(Path(args.source).read_text())
    report(measured, Profile(args.customers, args.messages_per_s, args.bot_contained), args.memory_mb,
           args.lambda_ms)


if __name__ == "__main__":
    main()
