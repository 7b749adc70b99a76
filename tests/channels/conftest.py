"""Fixtures for the channel-layer tests: secrets, signed requests and the fake platform server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # allow `pytest` without `python -m`
    sys.path.insert(0, str(REPO_ROOT))

from local.fake_platforms import FakePlatforms  # noqa: E402


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    server = FakePlatforms(port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=False)
def fresh_fake(fake: FakePlatforms) -> FakePlatforms:
    fake.reset()
    return fake
