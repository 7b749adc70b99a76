"""Shared fixtures for the analytics tests: fake AWS credentials for moto, the archive's bucket."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

ARCHIVE_BUCKET = "analytics-archive"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3(aws_env: None):
    """moto S3 with the archive's bucket (`ARCHIVE_BUCKET`)."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=ARCHIVE_BUCKET)
        yield client
