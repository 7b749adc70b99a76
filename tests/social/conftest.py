"""Fixtures: moto from infra/, the fake platform APIs, channel secrets and the REST test client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from local.fake_platforms import FakePlatforms

from .social_support import ROOT, SECRETS, Social


@pytest.fixture(scope="session")
def fake_platforms() -> Iterator[FakePlatforms]:
    server = FakePlatforms(port=0).start()
    yield server
    server.stop()


@pytest.fixture
def bot_enabled() -> bool:
    """Ask for this fixture (before `social`) to keep the bot's listener on."""
    return True


@pytest.fixture
def social(fake_platforms: FakePlatforms, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
           request: pytest.FixtureRequest) -> Iterator[Social]:
    fake_platforms.reset()
    for name, value in {**SECRETS, **fake_platforms.config()}.items():
        monkeypatch.setenv(name, value)
    # The bot answers customers too; these tests count the agent's replies (one test turns it on).
    monkeypatch.setenv("BOT_ENABLED", "true" if "bot_enabled" in request.fixturenames else "false")
    aws: Any = request.getfixturevalue("aws")
    import app as app_module

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        yield Social(app_module, client, fake_platforms, aws)
