from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # faults_support, shared by the modules here


@pytest.fixture
def fault_proxy(aws_server: Any, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app's AWS calls go through local/fault_proxy.py to the moto server; no faults until a test sets rules.

    `aws_server` provisioned the resources directly on moto; from here on the app (built lazily) speaks to
    the proxy, while the test's own checks (`aws_server`'s session) read moto directly.
    """
    from chalicelib import services as composition
    from local.fault_proxy import FaultProxy

    proxy = FaultProxy(moto_server, seed=13)
    proxy.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    composition.reset()
    proxy.direct = lambda service: aws_server.client(service, endpoint_url=moto_server)  # type: ignore[attr-defined]
    yield proxy
    proxy.stop()
    composition.reset()


@pytest.fixture(scope="session")
def fake_platforms() -> Iterator[Any]:
    """The platforms' send APIs (local/fake_platforms.py), where outbound replies land."""
    from local.fake_platforms import FakePlatforms

    server = FakePlatforms(port=0).start()
    yield server
    server.stop()


@pytest.fixture
def social_server(fault_proxy: Any, lam_server: Any, management_api: Any, fake_platforms: Any,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The webhook channels configured (the adapters' test secrets, sends to the fake platforms), the bot on
    (untrained: it hands each new conversation over to a human), the REST edge through Chalice's test client."""
    from chalice.test import Client
    from social.social_support import ROOT, SECRETS

    fake_platforms.reset()
    for name, value in {**SECRETS, **fake_platforms.config()}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BOT_ENABLED", "true")
    from chalicelib import services as composition

    composition.reset()
    with Client(lam_server.app.app, stage_name="local", project_dir=str(ROOT)) as client:
        yield {"client": client, "lam": lam_server, "api": management_api, "proxy": fault_proxy,
               "fake": fake_platforms, "secrets": SECRETS}
