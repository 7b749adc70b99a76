"""Partial batch responses on the event sources `chalice deploy` creates (issue 13).

    python -m infra.batch_responses --stage dev      # `make deploy` runs it after `chalice deploy`

Chalice cannot ask for ``ReportBatchItemFailures`` on an SQS or Kinesis event source mapping, and
without it Lambda ignores the ``batchItemFailures`` the consumers return (Powertools'
BatchProcessor): a partly failed batch counts as done. `chalice package` gets it from
``infra/sam-merge.yaml``; after `chalice deploy`, this sets it through the Lambda API on every SQS
and Kinesis mapping that Chalice recorded in ``.chalice/deployed/<stage>.json``. Running it again
changes nothing; a mapping that `chalice deploy` creates anew lacks the setting only until this runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTING = "ReportBatchItemFailures"
_BATCH_SOURCES = frozenset({"sqs_event", "kinesis_event"})


def batch_event_sources(deployed: dict[str, Any]) -> list[str]:
    """The UUIDs of the SQS and Kinesis event source mappings in Chalice's deployed state."""
    return [r["event_uuid"] for r in deployed.get("resources", []) if r.get("resource_type") in _BATCH_SOURCES]


def report_batch_item_failures(lambda_client: Any, uuids: list[str]) -> list[str]:
    """Turn on partial batch responses on each mapping that lacks them; the UUIDs changed."""
    changed = []
    for uuid in uuids:
        mapping = lambda_client.get_event_source_mapping(UUID=uuid)
        if SETTING not in (mapping.get("FunctionResponseTypes") or []):
            lambda_client.update_event_source_mapping(UUID=uuid, FunctionResponseTypes=[SETTING])
            changed.append(uuid)
    return changed


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    args = parser.parse_args()
    state = ROOT / ".chalice" / "deployed" / f"{args.stage}.json"
    if not state.exists():
        raise SystemExit(f"{state} not found: run `chalice deploy --stage {args.stage}` first")
    uuids = batch_event_sources(json.loads(state.read_text()))
    changed = report_batch_item_failures(boto3.client("lambda"), uuids)
    print(f"{len(uuids)} SQS/Kinesis event sources, {len(changed)} set to {SETTING}", file=sys.stderr)


if __name__ == "__main__":
    main()
