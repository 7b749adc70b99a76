"""Sparse lexical features: word and character n-grams weighted by TF-IDF.

Latin-script words give word unigrams, word bigrams and character 3-5-grams inside word
boundaries (robust to typos and inflection); Chinese runs give character 1-3-grams (robust to
the lack of word segmentation, homophone typos hurt only a few grams). Weights are sublinear TF
times smoothed IDF, L2-normalised per text. The vocabulary is learned from the training texts
and stored in the model artifact as a plain list of strings.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

from .normalize import is_cjk, normalize

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import numpy as np
    from numpy.typing import NDArray

    from .arrays import Float32


def ngrams(norm_text: str) -> list[str]:
    """Feature strings of an already normalised text (see :func:`normalize`)."""
    feats: list[str] = []
    prev_word = ""
    for tok in norm_text.split():
        if is_cjk(tok[0]):
            prev_word = ""
            n = len(tok)
            for size in (1, 2, 3):
                feats.extend("z" + tok[i : i + size] for i in range(n - size + 1))
            if n <= 4:
                feats.append("z^" + tok + "$")
            continue
        feats.append("w" + tok)
        if prev_word:
            feats.append("b" + prev_word + " " + tok)
        prev_word = tok
        padded = f" {tok} "
        n = len(padded)
        for size in (3, 4, 5):
            if n >= size:
                feats.extend("c" + padded[i : i + size] for i in range(n - size + 1))
    return feats


@lru_cache(maxsize=64)
def text_features(text: str) -> tuple[str, ...]:
    """:func:`ngrams` of ``normalize(text)``, memoised: the intent model and both judgement heads read
    the same message, and normalising a long one three times was a visible part of its latency."""
    return tuple(ngrams(normalize(text)))


@lru_cache(maxsize=64)
def feature_counts(text: str) -> tuple[tuple[str, float], ...]:
    """Distinct features of ``text`` with their sublinear term frequency ``1 + log(count)``, memoised:
    the three vectorizers that read each message then look up distinct features only (a long message
    has about 1,000 feature occurrences, a few hundred distinct)."""
    return tuple((f, 1.0 + math.log(c)) for f, c in Counter(text_features(text)).items())


class TfidfVectorizer:
    """TF-IDF over :func:`ngrams`; ``fit`` learns vocabulary and IDF, ``transform`` gives CSR arrays."""

    def __init__(self, vocab: Sequence[str] = (), idf: Sequence[float] = ()) -> None:
        self.vocab = list(vocab)
        self.index = {f: i for i, f in enumerate(self.vocab)}
        self.idf = list(idf)

    @property
    def size(self) -> int:
        return len(self.vocab)

    def fit(self, texts: Iterable[str], *, min_df: int = 1, max_features: int = 60000) -> TfidfVectorizer:
        docs = [set(ngrams(normalize(t))) for t in texts]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d)
        n = len(docs)
        kept = [(f, c) for f, c in df.items() if c >= min_df]
        kept.sort(key=lambda fc: (-fc[1], fc[0]))
        kept = kept[:max_features]
        kept.sort()
        self.vocab = [f for f, _ in kept]
        self.index = {f: i for i, f in enumerate(self.vocab)}
        self.idf = [math.log((1 + n) / (1 + c)) + 1.0 for _, c in kept]
        return self

    def transform_one(self, text: str) -> tuple[list[int], list[float]]:
        """Sorted feature indices and L2-normalised weights of one raw text."""
        index, idf = self.index, self.idf
        items = [(i, tf * idf[i]) for f, tf in feature_counts(text) if (i := index.get(f)) is not None]
        if not items:
            return [], []
        items.sort()
        norm = math.sqrt(sum(v * v for _, v in items))
        return [i for i, _ in items], [v / norm for _, v in items]

    def transform(self, texts: Iterable[str]) -> tuple[NDArray[np.int64], NDArray[np.int32], Float32]:
        """CSR ``(indptr, indices, data)`` for many texts."""
        import numpy as np

        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for t in texts:
            idx, val = self.transform_one(t)
            indices.extend(idx)
            data.extend(val)
            indptr.append(len(indices))
        return (
            np.asarray(indptr, dtype=np.int64),
            np.asarray(indices, dtype=np.int32),
            np.asarray(data, dtype=np.float32),
        )
