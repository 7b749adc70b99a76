"""Shared fixtures: moto-backed AWS built from infra/, a management API that can answer 410,
and the app's handlers invoked with the checked-in events/."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from support import AGENT_SECRET, CUSTOMER_SECRET, Lambda, ManagementApi

# -- bot: single-threaded BLAS before numpy loads (as in .chalice/config.json): the classifier's
# matrices are tiny, and BLAS threads on shared cores make training several times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture
def management_api() -> Iterator[ManagementApi]:
    api = ManagementApi()
    yield api
    api.close()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, management_api: ManagementApi) -> dict[str, str]:
    from infra.provision import lambda_environment

    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "CUSTOMER_TOKEN_SECRET": CUSTOMER_SECRET, "AGENT_TOKEN_SECRET": AGENT_SECRET,
        "PSEUDONYM_KEY": "test-pseudonym-key-0123456789abcdef",  # analytics
        "WEBSOCKET_MANAGEMENT_ENDPOINT": management_api.url,
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
        **lambda_environment("local"),
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "SSM_PARAMETER_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def aws(aws_env: dict[str, str]) -> Iterator[Any]:
    """moto with the resources of infra/resources.yaml; wiring rebuilt around it."""
    from moto import mock_aws

    from chalicelib import services as composition
    from infra.provision import provision

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        provision(session, "local")
        composition.reset()
        yield session
        composition.reset()


@pytest.fixture
def app_module(aws: Any) -> Any:
    import app

    return app


@pytest.fixture
def lam(app_module: Any) -> Lambda:
    return Lambda(app_module)


@pytest.fixture
def table(aws: Any) -> Any:
    return aws.resource("dynamodb").Table(os.environ["TABLE_NAME"])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The local stack's moto server (DynamoDB serialised) for tests that need real concurrency."""
    from local.devserver import ROOT, free_port, start_moto

    port = free_port()
    process = start_moto("127.0.0.1", port, ROOT / ".local-data" / "moto-tests.log")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(5)


@pytest.fixture
def aws_server(aws_env: dict[str, str], moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Like `aws`, but boto3 speaks HTTP to a moto server process (reset for every test)."""
    from urllib.request import Request, urlopen

    from chalicelib import services as composition
    from infra.provision import provision

    # A reset of a moto server holding many tests' state takes seconds on a busy machine (a 10 s timeout
    # failed under load): one generous deadline, retried once if the connection itself broke (issue 13).
    deadline = time.monotonic() + 120
    while True:
        try:
            urlopen(Request(f"{moto_server}/moto-api/reset", method="POST"),
                    timeout=max(1.0, deadline - time.monotonic())).read()
            break
        except OSError:
            if time.monotonic() >= deadline:
                raise
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    session = boto3.session.Session(region_name="us-east-1")
    provision(session, "local")
    composition.reset()
    yield session
    composition.reset()


@pytest.fixture
def lam_server(aws_server: Any) -> Lambda:
    import app

    return Lambda(app)
