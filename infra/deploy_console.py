"""Deploy the agent console to S3 + CloudFront (`infra/console-web.yaml`) for a stage.

    python -m infra.deploy_console --stage dev --api https://<id>.execute-api.<region>.amazonaws.com/api \
        --ws wss://<id>.execute-api.<region>.amazonaws.com/api

Deploys the stack `cs-platform-<stage>-console-web`, then uploads the console's files (what
`clients/console/` serves, with the pinned Chart.js from `npm ci`, and the customer SDK's ES modules under
`sdk/`, which the console's socket imports from its own origin) and a `config.json` naming the
REST and WebSocket URLs and the agents' Cognito pool (from `cs-platform-<stage>-agents-auth`).
HTML and config are served `no-cache`, the rest is cached for an hour. Set the stage's
`CONSOLE_ORIGIN` (.chalice/config.json) to the printed origin so that REST answers its CORS.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.provision import APP_NAME, INFRA_DIR, load_template

CONSOLE_DIR = INFRA_DIR.parent / "clients" / "console"
SDK_SRC = INFRA_DIR.parent / "clients" / "js" / "src"  # served as `sdk/` (locally: local/web.py's /console/sdk/)
VENDORED = ("node_modules/chart.js/dist/chart.umd.min.js",)


def console_files(root: Path = CONSOLE_DIR, sdk: Path = SDK_SRC) -> Iterator[tuple[str, Path]]:
    """(key, file) for every file the console loads: its pages, styles, modules, the SDK's and Chart.js."""
    for path in sorted([root / "index.html", *root.glob("*.css"), *(root / "js").glob("*.js")]):
        yield path.relative_to(root).as_posix(), path
    for path in sorted(sdk.glob("*.js")):
        yield f"sdk/{path.name}", path
    for relative in VENDORED:
        path = root / relative
        if not path.is_file():
            raise SystemExit(f"{relative} is missing: run `make install` (npm ci in clients/console)")
        yield relative, path


def upload(s3: Any, bucket: str, config: dict[str, Any], root: Path = CONSOLE_DIR) -> list[str]:
    keys = []
    for key, path in console_files(root):
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        cache = "no-cache" if key.endswith(".html") else "public, max-age=3600"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type, CacheControl=cache)
        keys.append(key)
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config).encode(), ContentType="application/json",
                  CacheControl="no-cache")
    return [*keys, "config.json"]


def main() -> None:
    import boto3

    from infra.deploy import deploy_stack
    from infra.provision import stack_outputs

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--api", required=True, help="REST base URL (the app stack's EndpointURL)")
    parser.add_argument("--ws", required=True, help="WebSocket URL (WebsocketConnectEndpointURL)")
    args = parser.parse_args()
    session = boto3.session.Session()
    cfn = session.client("cloudformation")
    outputs = deploy_stack(cfn, f"{APP_NAME}-{args.stage}-console-web", load_template(INFRA_DIR / "console-web.yaml"),
                           {"AppName": APP_NAME, "Stage": args.stage})
    auth = stack_outputs(cfn.describe_stacks(StackName=f"{APP_NAME}-{args.stage}-agents-auth")["Stacks"][0])
    config = {"api": args.api.rstrip("/"), "ws": args.ws, "stage": args.stage,
              "cognito": {"region": session.region_name, "user_pool_id": auth["UserPoolId"],
                          "client_id": auth["ConsoleClientId"]}}
    keys = upload(session.client("s3"), outputs["ConsoleBucketName"], config)
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(len(keys)) + args.stage})
    print(json.dumps({"uploaded": len(keys), **outputs}, indent=2))
    print(f"set CONSOLE_ORIGIN={outputs['ConsoleOrigin']} in the {args.stage} stage's environment and redeploy the app")


if __name__ == "__main__":
    main()
