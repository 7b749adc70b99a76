"""Deploy the stateful stacks of a stage to AWS (before `python -m infra.deploy_app`).

    python -m infra.deploy --stage dev

Creates or updates `cs-platform-<stage>-resources` from `infra/resources.yaml`, then the analytics
catalogue (`infra/analytics.yaml`) over the bucket it created, then the agents' Cognito user pool
(`infra/agents-auth.yaml`), and waits for each.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from botocore.exceptions import ClientError, WaiterError

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
    print(f"resources of stage {args.stage} are up; next: python -m infra.deploy_app --stage {args.stage}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
