"""Intent / FAQ classifier for Chinese and English customer messages.

Public API: :func:`train` builds an :class:`NluModel` from ``(text, intent)`` examples;
``NluModel.to_bytes`` / ``NluModel.from_bytes`` move it to and from storage; ``NluModel.predict``
returns a :class:`Prediction` (``intent`` is ``None`` when out of scope). numpy and the sentence
encoder are imported on first use of ``train`` / ``NluModel``, not when this package is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .types import Prediction

if TYPE_CHECKING:
    from .model import NluModel
    from .trainer import train

__all__ = ["NluModel", "Prediction", "train"]


def __getattr__(name: str) -> object:  # lazy: numpy loads on first use (PEP 562)
    if name == "train":
        from .trainer import train

        return train
    if name == "NluModel":
        from .model import NluModel

        return NluModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
