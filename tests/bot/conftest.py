"""Fixtures for the bot tests: a small trained model and the telecom dataset rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from botdata import TELECOM, TINY_EXAMPLES, read_csv


@pytest.fixture(scope="session")
def tiny_model():
    from chalicelib.bot.nlu import train

    return train(TINY_EXAMPLES)


@pytest.fixture(scope="session")
def telecom_rows() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    if not (TELECOM / "train.csv").exists():
        pytest.skip("telecom_faq_zh_en dataset not available")
    return read_csv(TELECOM / "train.csv"), read_csv(TELECOM / "test.csv")


# -- knowledge base, retraining, dialogue policy ---------------------------------------------------


@pytest.fixture(scope="session")
def kb_model():
    """The tiny KB of kbdata.py trained once (version 1), as a LiveModel, with its artifact bytes."""
    from kbdata import snapshot

    from chalicelib.bot.serving import LiveModel
    from chalicelib.bot.training import train_snapshot

    model = train_snapshot(snapshot())
    blob = model.to_bytes()
    return LiveModel(1, model, model.meta["kb"]), blob
