"""Deploy the stateful stacks of a stage to AWS (before `python -m infra.deploy_app`).

    python -m infra.deploy --stage dev

Creates or updates `cs-platform-<stage>-resources` from `infra/resources.yaml`, then the analytics
catalogue (`infra/analytics.yaml`) over the bucket it created, then the agents' Cognito user pool
(`infra/agents-auth.yaml`), then the Lambda layers (`infra/layers.yaml`: numpy and the bot's encoder,
built by `infra/layers.py` and uploaded to the deployment bucket), and waits for each. The layers'
version ARNs are written into `.chalice/config.json` (`stages.<stage>.layers`) for `chalice deploy`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from infra import layers
from infra.provision import APP_NAME, INFRA_DIR, load_template, stack_name, stack_outputs


def deploy_stack(cfn: Any, name: str, template: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    body = json.dumps(template)
    try:
        cfn.describe_stacks(StackName=name)
        exists = True
    except ClientError:
        exists = False
    try:
        if exists:
            cfn.update_stack(StackName=name, TemplateBody=body, Parameters=params, Capabilities=["CAPABILITY_IAM"])
            cfn.get_waiter("stack_update_complete").wait(StackName=name)
        else:
            cfn.create_stack(StackName=name, TemplateBody=body, Parameters=params, Capabilities=["CAPABILITY_IAM"])
            cfn.get_waiter("stack_create_complete").wait(StackName=name)
    except ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise
    except WaiterError as exc:
        raise SystemExit(f"stack {name} failed: {exc}") from exc
    return stack_outputs(cfn.describe_stacks(StackName=name)["Stacks"][0])


def deploy_layers(cfn: Any, s3: Any, stage: str, bucket: str, built: list[layers.LayerZip]) -> dict[str, str]:
    """Upload the layer zips and deploy `cs-platform-<stage>-layers` from them; the stack's outputs."""
    for layer in built:
        print(f"layer {layer.name}: {layer.path.stat().st_size / 1e6:.1f} MB zipped, "
              f"{layer.unzipped_bytes / 1e6:.1f} MB unzipped", file=sys.stderr)
    params = {"AppName": APP_NAME, "Stage": stage, **layers.upload(s3, bucket, stage, built)}
    return deploy_stack(cfn, f"{APP_NAME}-{stage}-layers", load_template(INFRA_DIR / "layers.yaml"), params)


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    args = parser.parse_args()
    cfn = boto3.client("cloudformation")
    outputs = deploy_stack(cfn, stack_name(args.stage), load_template(),
                           {"AppName": APP_NAME, "Stage": args.stage})
    print(json.dumps(outputs, indent=2))
    analytics = INFRA_DIR / "analytics.yaml"
    if analytics.exists():
        deploy_stack(cfn, f"{APP_NAME}-{args.stage}-analytics", load_template(analytics),
                     {"AppName": APP_NAME, "Stage": args.stage, "AnalyticsBucketName": outputs["AnalyticsBucketName"]})
    # -- issue 11: the agents' Cognito user pool and the console's app client --
    auth = deploy_stack(cfn, f"{APP_NAME}-{args.stage}-agents-auth", load_template(INFRA_DIR / "agents-auth.yaml"),
                        {"AppName": APP_NAME, "Stage": args.stage})
    print(json.dumps(auth, indent=2))
    # -- issue 13: numpy and the encoder as layers, so the function package fits `chalice deploy` --
    built = layers.build(layers.ROOT / "out" / "layers")
    arns = layers.layer_arns(deploy_layers(cfn, boto3.client("s3"), args.stage, outputs["DeploymentBucketName"], built),
                             built)
    changed = layers.write_config_layers(args.stage, arns)
    print(json.dumps({"layers": arns}, indent=2))
    if changed:
        print(f".chalice/config.json: stages.{args.stage}.layers updated", file=sys.stderr)
    print(f"resources of stage {args.stage} are up; next (`make deploy` runs both): chalice deploy --stage "
          f"{args.stage} && python -m infra.batch_responses --stage {args.stage}", file=sys.stderr)


if __name__ == "__main__":
    main()
