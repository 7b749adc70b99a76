"""Create the stack of `infra/resources.yaml` through the CloudFormation API (moto, locally).

The local stack and the tests call this, so they run on exactly the resources production gets.
moto leaves a template's DynamoDB TTL disabled, so TTL is switched on explicitly from the same
template afterwards (a no-op difference on real AWS, where CloudFormation already did it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parent
RESOURCES_TEMPLATE = INFRA_DIR / "resources.yaml"
APP_NAME = "cs-platform"


class _CfnLoader:
    """A YAML loader that keeps CloudFormation short-form tags (!Sub, !Ref, !GetAtt) as data."""

    @staticmethod
    def load(text: str) -> dict[str, Any]:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
            name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
            if isinstance(node, yaml.ScalarNode):
                value: Any = loader.construct_scalar(node)
                if suffix == "GetAtt":
                    value = value.split(".", 1)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            return {name: value}

        Loader.add_multi_constructor("!", construct)
        return yaml.load(text, Loader=Loader)  # a SafeLoader subclass: no arbitrary objects


def load_template(path: Path = RESOURCES_TEMPLATE) -> dict[str, Any]:
    return _CfnLoader.load(path.read_text())


def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    """A described stack's outputs by name."""
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def stack_name(stage: str, app_name: str = APP_NAME) -> str:
    return f"{app_name}-{stage}-resources"


def provision(session: Any, stage: str, app_name: str = APP_NAME) -> dict[str, str]:
    """Create (or reuse) the stage's resource stack; return its outputs by name."""
    cfn = session.client("cloudformation")
    name = stack_name(stage, app_name)
    template = load_template()
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except cfn.exceptions.ClientError:
        stacks = []
    if not stacks:
        cfn.create_stack(
            StackName=name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": "AppName", "ParameterValue": app_name},
                        {"ParameterKey": "Stage", "ParameterValue": stage}],
        )
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    outputs = stack_outputs(stacks[0])
    _enable_ttl(session.client("dynamodb"), template, outputs)
    return outputs


def _enable_ttl(dynamodb: Any, template: dict[str, Any], outputs: dict[str, str]) -> None:
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        spec = resource["Properties"].get("TimeToLiveSpecification")
        if not spec or not spec.get("Enabled"):
            continue
        table = outputs["TableName"]
        current = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["AttributeName"]},
            )


def lambda_environment(stage: str, project_dir: Path | None = None) -> dict[str, str]:
    """The environment variables `.chalice/config.json` gives the functions of a stage."""
    project_dir = project_dir or INFRA_DIR.parent
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env
