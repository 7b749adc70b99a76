"""`python -m infra.post_deploy` turns on ReportBatchItemFailures for the app's consumers (Lambda API, moto)."""

from __future__ import annotations

import io
import json
import zipfile

from infra.post_deploy import consumer_functions, enable_partial_batch_responses


def test_consumers_are_the_apps_sqs_and_kinesis_handlers():
    names = consumer_functions("dev")
    assert "cs-platform-dev-send_outbound" in names and "cs-platform-dev-route_escalations" in names
    assert not [n for n in names if n.endswith(("webhook_receive", "agent_sweeps"))]


def test_mappings_get_partial_batch_responses(aws):
    iam, lam, sqs = aws.client("iam"), aws.client("lambda"), aws.client("sqs")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                                                                              "Statement": []}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    lam.create_function(FunctionName="cs-platform-local-send_outbound", Runtime="python3.11", Role=role,
                        Handler="app.handler", Code={"ZipFile": code.getvalue()})
    url = sqs.get_queue_url(QueueName="cs-platform-local-outbound")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="cs-platform-local-send_outbound",
                                              BatchSize=10)

    assert enable_partial_batch_responses(lam, ["cs-platform-local-send_outbound"]) == [mapping["UUID"]]
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert enable_partial_batch_responses(lam, ["cs-platform-local-send_outbound"]) == []  # idempotent
