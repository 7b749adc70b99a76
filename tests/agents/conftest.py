from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from desk import Desk


@pytest.fixture
def desk(lam: Any, management_api: Any, aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("BOT_ENABLED", "false")  # these tests are about humans; the bot has its own
    from chalicelib import services as composition

    composition.reset()
    d = Desk(lam, management_api, aws)
    yield d
    d.close()
