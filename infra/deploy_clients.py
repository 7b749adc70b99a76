"""Publish the chat widget and SDK bundles of a stage to S3 + CloudFront (infra/clients.yaml).

    python -m infra.deploy_clients --stage prod

1. builds the bundles (`node clients/js/scripts/build.mjs`, needs `make install` for esbuild);
2. creates or updates the stack `cs-platform-<stage>-clients`;
3. uploads each bundle twice: under its exact version (`widget/v0.1.0/widget.js`, cached for a year,
   immutable) and under its major version (`widget/v0/widget.js`, cached 5 minutes, what embed
   snippets use so that fixes reach every site), then invalidates the major-version paths;
4. prints the URLs and the embed snippet (the WebSocket URL is given there, per site).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.deploy import deploy_stack
from infra.provision import APP_NAME, INFRA_DIR, load_template

ROOT = INFRA_DIR.parent
CLIENTS = ROOT / "clients"
TEMPLATE = INFRA_DIR / "clients.yaml"
IMMUTABLE = "public, max-age=31536000, immutable"
MUTABLE = "public, max-age=300, must-revalidate"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".map": "application/json"}


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str
    content_type: str
    cache_control: str


def version() -> str:
    return json.loads((CLIENTS / "js" / "package.json").read_text())["version"]


def bundle_uploads(clients: Path = CLIENTS, release: str | None = None) -> list[Upload]:
    """What goes where: every bundle (and source map) under its exact and its major version."""
    release = release or version()
    major = release.split(".")[0]
    bundles = {"widget": [clients / "widget" / "dist" / n for n in ("widget.js", "widget.js.map")],
               "sdk": [clients / "js" / "dist" / n for n in ("sdk.js", "sdk.min.js", "sdk.min.js.map")]}
    uploads = []
    for name, paths in bundles.items():
        for path in paths:
            if not path.is_file():
                raise SystemExit(f"{path} is missing: run `make install` (it builds the bundles)")
            content_type = CONTENT_TYPES[path.suffix]
            uploads.append(Upload(path, f"{name}/v{release}/{path.name}", content_type, IMMUTABLE))
            uploads.append(Upload(path, f"{name}/v{major}/{path.name}", content_type, MUTABLE))
    return uploads


def upload(s3: Any, bucket: str, uploads: list[Upload]) -> list[str]:
    for item in uploads:
        s3.put_object(Bucket=bucket, Key=item.key, Body=item.path.read_bytes(), ContentType=item.content_type,
                      CacheControl=item.cache_control)
    return [u.key for u in uploads]


def invalidate(cloudfront: Any, distribution_id: str, uploads: list[Upload]) -> None:
    paths = sorted({"/" + u.key for u in uploads if u.cache_control == MUTABLE})
    cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": str(time.time_ns())})


def embed_snippet(base_url: str, ws_url: str, release: str | None = None) -> str:
    major = (release or version()).split(".")[0]
    return (f'<script src="{base_url}/widget/v{major}/widget.js" defer\n'
            f'        data-ws="{ws_url}" data-token-url="/your/chat-token"></script>')


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--ws-url", default="wss://<api>.execute-api.<region>.amazonaws.com/<stage>",
                        help="only for the printed embed snippet")
    args = parser.parse_args()
    subprocess.run(["node", str(CLIENTS / "js" / "scripts" / "build.mjs")], cwd=CLIENTS / "js", check=True)
    outputs = deploy_stack(boto3.client("cloudformation"), f"{APP_NAME}-{args.stage}-clients", load_template(TEMPLATE),
                           {"AppName": APP_NAME, "Stage": args.stage})
    uploads = bundle_uploads()
    upload(boto3.client("s3"), outputs["ClientsBucketName"], uploads)
    invalidate(boto3.client("cloudfront"), outputs["ClientsDistributionId"], uploads)
    for item in uploads:
        print(f"{outputs['ClientsBaseUrl']}/{item.key}")
    print("\nembed snippet:\n" + embed_snippet(outputs["ClientsBaseUrl"], args.ws_url), file=sys.stderr)


if __name__ == "__main__":
    main()
