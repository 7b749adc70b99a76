"""Deploy the app stack of a stage (the functions, the REST and WebSocket APIs) with CloudFormation.

    python -m infra.deploy_app --stage dev        # after `make deploy-infra`

`make deploy` runs `chalice deploy`, which keeps its state in `.chalice/deployed/`; this is the
other route Chalice documents, for a team that wants the app as a CloudFormation stack:
`chalice package` builds the SAM template and the zip (with `infra/sam-merge.yaml` merged in),
zip and template go to the stage's deployment bucket (from `infra/resources.yaml`), and a
change set creates or updates `cs-platform-<stage>-app`. numpy and the encoder are not in the
zip: the functions get them from the stage's layers, whose ARNs `make deploy-infra` wrote into
`.chalice/config.json` and `chalice package` copies into the template. Unchanged code is not
uploaded again (the key is the zip's SHA-256), and a deploy without changes ends as "no changes".
Use one route per stage: both create functions of the same names.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from infra.provision import APP_NAME, stack_outputs

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ZIP = "./deployment.zip"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


def app_stack_name(stage: str, app_name: str = APP_NAME) -> str:
    return f"{app_name}-{stage}-app"


def chalice_package(stage: str, out_dir: Path) -> Path:
    """Run `chalice package` for ``stage`` into ``out_dir``; return the SAM template's path."""
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run(
        [str(chalice), "package", "--stage", stage, "--merge-template", "infra/sam-merge.yaml", str(out_dir)],
        cwd=ROOT, check=True,
    )
    return out_dir / "sam.yaml"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_once(s3: Any, bucket: str, key: str, path: Path) -> bool:
    """Upload ``path`` to ``s3://bucket/key`` unless it is already there; True if it uploaded."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(str(path), bucket, key)
    return True


def point_code_at(template: dict[str, Any], bucket: str, key: str) -> int:
    """Make every function whose code is the local package read it from ``s3://bucket/key``."""
    count = 0
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion") \
                and props.get("CodeUri") == PACKAGE_ZIP:
            props["CodeUri"] = {"Bucket": bucket, "Key": key}
            count += 1
        elif props.get("ContentUri") == PACKAGE_ZIP:
            props["ContentUri"] = {"Bucket": bucket, "Key": key}
            count += 1
    return count


def _stack_exists(cfn: Any, name: str) -> bool:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return False
    return bool(stacks) and stacks[0]["StackStatus"] != "REVIEW_IN_PROGRESS"


def deploy_change_set(cfn: Any, name: str, template_url: str) -> dict[str, str] | None:
    """Create and execute a change set for stack ``name``; its outputs, or None when nothing changed."""
    exists = _stack_exists(cfn, name)
    change_set = f"deploy-{int(time.time())}"
    cfn.create_change_set(
        StackName=name, ChangeSetName=change_set, TemplateURL=template_url,
        ChangeSetType="UPDATE" if exists else "CREATE", Capabilities=CAPABILITIES,
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(StackName=name, ChangeSetName=change_set)
    except WaiterError as exc:
        reason = cfn.describe_change_set(StackName=name, ChangeSetName=change_set).get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            return None
        raise SystemExit(f"change set for {name} failed: {reason or exc}") from exc
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_update_complete" if exists else "stack_create_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    except WaiterError as exc:
        raise SystemExit(f"stack {name} failed: {exc}") from exc
    return stack_outputs(cfn.describe_stacks(StackName=name)["Stacks"][0])


def publish(s3: Any, bucket: str, region: str, stage: str, template_path: Path, package: Path) -> str:
    """Upload the package and the rewritten template; return the template's URL for CloudFormation."""
    import yaml

    key = f"app/{stage}/{sha256_of(package)[:32]}.zip"
    upload_once(s3, bucket, key, package)
    template = yaml.safe_load(template_path.read_text())
    if not point_code_at(template, bucket, key):
        raise SystemExit(f"no function in {template_path} uses {PACKAGE_ZIP}")
    body = json.dumps(template, sort_keys=True).encode()
    template_key = f"app/{stage}/{hashlib.sha256(body).hexdigest()[:32]}.template.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body, ContentType="application/json")
    return f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--out", type=Path, help="where to build the package (default out/<stage>)")
    args = parser.parse_args()
    from infra.layers import configured_layers
    from infra.provision import stack_name

    configured_layers(args.stage)  # numpy and the encoder are not in the package

    session = boto3.session.Session()
    cfn, s3 = session.client("cloudformation"), session.client("s3")
    resources = cfn.describe_stacks(StackName=stack_name(args.stage))["Stacks"][0]
    bucket = stack_outputs(resources).get("DeploymentBucketName")
    if not bucket:
        raise SystemExit("the resources stack has no deployment bucket: run `make deploy-infra` first")
    out = args.out or ROOT / "out" / args.stage
    template_path = chalice_package(args.stage, out)
    package = out / "deployment.zip"
    print(f"package: zip {package.stat().st_size / 1e6:.1f} MB (numpy and the encoder are layers)", file=sys.stderr)
    url = publish(s3, bucket, session.region_name, args.stage, template_path, package)
    outputs = deploy_change_set(cfn, app_stack_name(args.stage), url)
    if outputs is None:
        print(f"{app_stack_name(args.stage)}: no changes", file=sys.stderr)
        return
    print(json.dumps(outputs, indent=2))


if __name__ == "__main__":
    main()
