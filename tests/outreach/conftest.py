"""Fixtures: the social test bed (moto from infra/, the fake platforms) plus the outreach helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from social.conftest import bot_enabled, fake_platforms, social  # noqa: F401 - fixtures shared with the social tests

from .outreach_support import Outreach


@pytest.fixture
def outreach(social: Any) -> Iterator[Outreach]:  # noqa: F811 - the imported fixture
    helper = Outreach(social)
    yield helper
    helper.close()
