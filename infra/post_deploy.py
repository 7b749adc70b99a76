"""After `chalice deploy`: switch the app's SQS and Kinesis event source mappings to partial batch responses.

Chalice cannot set `FunctionResponseTypes`; `make package` merges it in through
`infra/sam-merge.yaml`, and for `chalice deploy` this does the same through the Lambda API:

    python -m infra.post_deploy --stage dev [--dry-run]

It lists the event source mappings of the stage's functions (`cs-platform-<stage>-<handler>`,
for every SQS and Kinesis handler in app.py) and calls `update_event_source_mapping(
FunctionResponseTypes=["ReportBatchItemFailures"])` where it is missing. Idempotent.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESPONSE_TYPES = ["ReportBatchItemFailures"]


def consumer_functions(stage: str, app_name: str = "cs-platform") -> list[str]:
    """The function names Chalice gives the app's SQS and Kinesis handlers in `stage`."""
    from chalice.app import KinesisEventConfig, SQSEventConfig

    from infra.provision import lambda_environment

    saved = dict(os.environ)
    os.environ.update(lambda_environment(stage, ROOT))  # queue and stream names are read at import
    sys.path.insert(0, str(ROOT))
    try:
        import app
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return [f"{app_name}-{stage}-{source.name}" for source in app.app.event_sources
            if isinstance(source, SQSEventConfig | KinesisEventConfig)]


def enable_partial_batch_responses(lambda_client: Any, function_names: list[str], dry_run: bool = False) -> list[str]:
    """Set ReportBatchItemFailures on every mapping of `function_names`; return the UUIDs changed."""
    changed = []
    for function_name in function_names:
        paginator = lambda_client.get_paginator("list_event_source_mappings")
        for page in paginator.paginate(FunctionName=function_name):
            for mapping in page["EventSourceMappings"]:
                if mapping.get("FunctionResponseTypes") == RESPONSE_TYPES:
                    continue
                if not dry_run:
                    lambda_client.update_event_source_mapping(UUID=mapping["UUID"],
                                                              FunctionResponseTypes=RESPONSE_TYPES)
                changed.append(mapping["UUID"])
                print(f"{function_name}: {mapping.get('EventSourceArn')} -> {RESPONSE_TYPES}"
                      + (" (dry run)" if dry_run else ""))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    import boto3

    functions = consumer_functions(args.stage)
    changed = enable_partial_batch_responses(boto3.client("lambda"), functions, args.dry_run)
    print(f"{len(changed)} event source mapping(s) updated for {len(functions)} consumer function(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
