"""Where the CLI finds AWS: the environment, else the running local stack, else exactly what to set.

`make dev` (`local/devserver.py`) writes `.local-data/stack.json` when it is ready: its moto URL,
region, bucket and REST URL. A command that reads the analytics bucket and has neither
`AWS_ENDPOINT_URL` nor credentials of its own uses that file if the stack answers; otherwise it
stops with the variables to set (never a `NoCredentialsError` traceback).
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_s3 import S3Client

STACK_FILE = Path(__file__).resolve().parents[2] / ".local-data" / "stack.json"


class NotConfigured(RuntimeError):
    """No AWS to talk to; the message says what to set."""


@dataclass(frozen=True)
class Target:
    """What boto3 needs for the analytics bucket."""

    bucket: str
    endpoint_url: str | None
    region: str
    local: bool


def read_stack(path: Path | None = None) -> dict[str, Any] | None:
    """The running local stack's description, or None if there is none (or it no longer answers)."""
    path = path or STACK_FILE
    try:
        stack: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    try:
        with urllib.request.urlopen(f"{stack['aws']}/moto-api/", timeout=2):
            return stack
    except (OSError, KeyError, ValueError):
        return None


def write_stack(description: Mapping[str, Any], path: Path | None = None) -> None:
    path = path or STACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(description), indent=2))


def remove_stack(path: Path | None = None) -> None:
    path = path or STACK_FILE
    path.unlink(missing_ok=True)


def _has_credentials() -> bool:
    import boto3

    return boto3.session.Session().get_credentials() is not None


HINT = ("no AWS to read the analytics archive from, and no running local stack (start one with `make dev`).\n"
        "Against the local stack started elsewhere, set:\n"
        "  AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing "
        "AWS_SECRET_ACCESS_KEY=testing ANALYTICS_BUCKET_NAME=<the stack's AnalyticsBucketName>\n"
        "Against AWS: credentials (AWS_PROFILE or keys), AWS_REGION and --bucket NAME (or ANALYTICS_BUCKET_NAME).\n"
        "Or read a local copy of the archive with --data DIR.")


def resolve_target(bucket: str | None, env: Mapping[str, str] | None = None,
                   stack_file: Path | None = None) -> Target:
    env = os.environ if env is None else env
    stack_file = stack_file or STACK_FILE
    # an explicit endpoint (moto, LocalStack) answers in any region; boto3's default is us-east-1
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ("us-east-1" if env.get("AWS_ENDPOINT_URL")
                                                                        else None)
    if not env.get("AWS_ENDPOINT_URL"):
        stack = read_stack(stack_file) if not (bucket or env.get("ANALYTICS_BUCKET_NAME")) else None
        if stack is not None:
            return Target(bucket=stack["bucket"], endpoint_url=stack["aws"], region=stack["region"], local=True)
    if not region or not (env.get("AWS_ENDPOINT_URL") or _has_credentials()):
        raise NotConfigured(HINT)
    name = bucket or env.get("ANALYTICS_BUCKET_NAME")
    if not name:
        raise NotConfigured("which analytics bucket? Pass --bucket NAME or set ANALYTICS_BUCKET_NAME.\n" + HINT)
    return Target(bucket=name, endpoint_url=env.get("AWS_ENDPOINT_URL"), region=region, local=False)


def s3_client(target: Target) -> S3Client:
    import boto3

    client: S3Client  # boto3 itself is untyped; the mypy-boto3 stubs describe what it returns
    if target.local:
        client = boto3.client("s3", endpoint_url=target.endpoint_url, region_name=target.region,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
    else:
        client = boto3.client("s3", region_name=target.region)
    return client


def resolve_bucket_name(name: str, region: str, s3: S3Client) -> str:
    """`{account_id}` / `{region}` placeholders of a configured bucket name, filled in."""
    if "{account_id}" in name:
        import boto3

        account = boto3.client("sts", region_name=region, endpoint_url=getattr(s3.meta, "endpoint_url", None)
                               ).get_caller_identity()["Account"]
        name = name.replace("{account_id}", account)
    return name.replace("{region}", region)
