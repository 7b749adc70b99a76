"""Infrastructure is defined once (infra/), lints clean, packages offline, and matches the code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.store import schema
from infra.provision import load_template

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="fake", AWS_SECRET_ACCESS_KEY="fake",
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    return env


def test_every_template_in_infra_passes_cfn_lint():
    templates = sorted(str(p) for p in (ROOT / "infra").glob("*.yaml"))
    result = subprocess.run([BIN / "cfn-lint", *templates], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("package")
    result = subprocess.run([BIN / "chalice", "package", "--stage", "prod", str(out)], cwd=ROOT,
                            capture_output=True, text=True, env=_offline_env(out), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"dir": out, "template": json.loads((out / "sam.json").read_text())}


def test_chalice_package_yields_websocket_api_that_passes_cfn_lint(packaged):
    resources = packaged["template"]["Resources"]
    apis = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert apis and apis[0]["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {r["Properties"]["RouteKey"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert {"$connect", "$disconnect", "$default"} <= routes
    result = subprocess.run([BIN / "cfn-lint", str(packaged["dir"] / "sam.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_packaged_functions_get_the_stage_environment(packaged):
    functions = [r for r in packaged["template"]["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions
    for function in functions:
        env = function["Properties"]["Environment"]["Variables"]
        assert env["TABLE_NAME"] == "cs-platform-prod-main"
        assert env["SSM_PARAMETER_PREFIX"] == "/cs-platform/prod/"


def test_table_key_schema_matches_the_code():
    table = load_template()["Resources"]["MainTable"]["Properties"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == [schema.PK, schema.SK]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {schema.GSI1: [schema.GSI1_PK, schema.GSI1_SK], schema.GSI2: [schema.GSI2_PK, schema.GSI2_SK]}
    assert table["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_stage_environment_names_the_resources_infra_creates():
    resources = load_template()["Resources"]
    for stage in ("dev", "prod", "local"):
        env = CONFIG["stages"][stage]["environment_variables"]
        assert env["TABLE_NAME"] == f"cs-platform-{stage}-main"
        assert resources["MainTable"]["Properties"]["TableName"] == {"Fn::Sub": "${AppName}-${Stage}-main"}
        assert env["ESCALATION_QUEUE_NAME"] == f"cs-platform-{stage}-escalations"
        assert env["INTERACTIONS_STREAM_NAME"] == f"cs-platform-{stage}-interactions"
        assert env["ANALYTICS_BUCKET_NAME"].startswith(f"cs-platform-{stage}-analytics-")


def test_queue_visibility_covers_the_consumers_timeout():
    resources = load_template()["Resources"]
    timeouts = [CONFIG.get("lambda_timeout", 60)]
    for stage in CONFIG["stages"].values():
        timeouts.append(stage.get("lambda_timeout", 0))
        timeouts.extend(f.get("lambda_timeout", 0) for f in stage.get("lambda_functions", {}).values())
    for resource in resources.values():
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in resource["Properties"]:
            assert resource["Properties"]["VisibilityTimeout"] >= 6 * max(timeouts)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_iam_policy_is_limited_to_the_stage_resources(stage):
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    for statement in policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            if resource == "*":
                # only actions that have no resource-level form, or a condition that narrows them
                assert set(statement["Action"]) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} \
                    or "Condition" in statement, statement
            elif not resource.startswith("arn:*:logs"):
                assert f"{stage}" in resource, resource
