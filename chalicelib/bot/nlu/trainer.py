"""Training: from ``(text, intent)`` examples to a calibrated :class:`NluModel`.

Steps: clean and de-duplicate the examples, add built-in small talk, embed every text with the
sentence encoder, add the built-in background (out-of-scope) examples that do not clash with the
knowledge base (see :mod:`.background`), centre the vectors on the background's mean, learn the
TF-IDF vocabulary, then cross-validate (k folds on small knowledge bases, one stratified hold-out
split on large ones) to fit the softmax temperature and the out-of-scope threshold, and finally
fit the classifier on all examples. Unless ``include_judgement`` is off, the handoff-request and
sentiment heads (:mod:`chalicelib.bot.nlu.judgement.heads`) are fitted on their shipped training sets and
travel in the same artifact.
Examples labelled ``oos`` (or the built-in background examples) are learned as a background class
that always maps to "out of scope", with its prior corrected for its size. The centred embedding
(scaled by 3) and the TF-IDF n-grams are weighted so that each counts: with centring, the same
balance suits few-shot and large knowledge bases.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import smalltalk
from . import background, embedding
from .calibration import choose_threshold, confidence, fit_temperature
from .features import TfidfVectorizer
from .linear import Csr, fit_softmax
from .model import BACKGROUND, NluModel

if TYPE_CHECKING:
    from .arrays import Float32, Floats, Labels, Rows
    from .linear import LinearModel

ProgressFn = Callable[[str, float], None]
OOS_LABELS = frozenset({"oos", BACKGROUND})


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; :func:`default_config` picks them from the data size."""

    dense_scale: float
    sparse_scale: float
    l2: float = 1e-4
    epochs: int = 30
    min_df: int = 1
    max_features: int = 60000
    background_prior: float = 0.5


def default_config(n_examples: int) -> TrainConfig:
    """Large training sets keep only n-grams seen twice (a smaller vocabulary and artifact)."""
    return TrainConfig(dense_scale=3.0, sparse_scale=1.0, min_df=2 if n_examples > 5000 else 1)


def _clean(examples: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for text, intent in examples:
        text, intent = str(text).strip(), str(intent).strip()
        if not text or not intent:
            continue
        if intent.lower() in OOS_LABELS:
            intent = BACKGROUND
        if (text, intent) not in seen:
            seen.add((text, intent))
            out.append((text, intent))
    return out


def _folds(y: Labels, n_classes: int, rng: np.random.Generator, k: int | None = None) -> list[Rows]:
    """Stratified held-out index sets: 4 folds (or ``k``) for small data, one 20% split for large data."""
    k = k or (4 if len(y) <= 4000 else 5)
    fold_of = np.empty(len(y), dtype=np.int64)
    for c in range(n_classes):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold_of[idx] = (np.arange(len(idx)) + rng.integers(k)) % k
    folds = [np.flatnonzero(fold_of == f) for f in range(k)]
    return folds if len(y) <= 4000 else folds[:1]


def train(
    examples: Iterable[tuple[str, str]],
    *,
    progress: ProgressFn | None = None,
    config: TrainConfig | None = None,
    include_smalltalk: bool = True,
    include_background: bool = True,
    include_judgement: bool = True,
    seed: int = 0,
    calibration_folds: int | None = None,
    embed: Callable[[Sequence[str]], Float32] | None = None,
    calibration: Callable[[Sequence[str]], tuple[float, float] | None] | None = None,
) -> NluModel:
    """Train a calibrated intent classifier from ``(text, intent)`` examples.

    ``calibration_folds`` (fast-training option, >= 2) overrides the 4 cross-validation folds used to
    calibrate small data sets; fewer folds train faster. Leave it unset for real knowledge bases;
    :func:`chalicelib.bot.training.fast_folds` sets 2 only for KBs of a few hundred examples.
    ``embed`` gives the sentence vectors of texts (default: the encoder with a per-process memo); the
    trainer function passes an S3-backed cache (:mod:`chalicelib.bot.embedding_cache`) so a retrain
    embeds only the texts that changed. ``calibration`` is asked, once the examples are embedded, with
    the model's labels: it may return a ``(temperature, threshold)`` to keep instead of calibrating
    again (the trainer function does so for a small edit of a large knowledge base: half the fitting).
    """
    if calibration_folds is not None and calibration_folds < 2:
        raise ValueError("calibration_folds must be at least 2")
    started = time.perf_counter()
    report = progress or (lambda _stage, _frac: None)
    embed_texts = embed or embedding.embed_cached
    data = _clean(examples)
    if include_smalltalk:
        data = _clean(smalltalk.merge_examples(data))
    intents = sorted({i for _, i in data if i != BACKGROUND})
    if not intents:
        raise ValueError("training needs at least one in-scope intent")
    counts = Counter(i for _, i in data if i != BACKGROUND)
    cfg = config or default_config(len(data))

    report("embedding", 0.0)
    texts = [t for t, _ in data]
    dense: Floats = np.zeros((len(texts), embedding.DIM), dtype=np.float32)
    step = 256
    for start in range(0, len(texts), step):
        dense[start : start + step] = embed_texts(texts[start : start + step])
        report("embedding", min(1.0, (start + step) / len(texts)))
    generic = embed_texts(background.EXAMPLES)
    mean = generic.mean(axis=0).astype(np.float32)
    if include_background and not any(i == BACKGROUND for _, i in data):
        known = {x for x, _ in data}
        fresh = np.array([t not in known for t in background.EXAMPLES])
        keep = fresh & ((generic @ dense.T).max(axis=1) <= background.CONFLICT_SIMILARITY)
        data += [(t, BACKGROUND) for t, k in zip(background.EXAMPLES, keep, strict=True) if k]
        texts = [t for t, _ in data]
        dense = np.concatenate([dense, generic[keep]])
    dense = embedding.center(dense, mean) * cfg.dense_scale
    labels = intents + ([BACKGROUND] if any(i == BACKGROUND for _, i in data) else [])
    index = {name: k for k, name in enumerate(labels)}
    y = np.array([index[i] for _, i in data], dtype=np.int64)

    report("features", 0.0)
    vectorizer = TfidfVectorizer().fit(texts, min_df=cfg.min_df, max_features=cfg.max_features)
    sparse = Csr(*vectorizer.transform(texts))
    sparse.data *= cfg.sparse_scale
    report("features", 1.0)

    # The background class has many more examples than an intent; correct its learned prior so
    # that it is no more likely a priori than a typical intent.
    per_intent = float(np.median(list(counts.values())))
    n_bg = int(np.sum(y == len(intents)))
    bg_offset = cfg.background_prior * float(np.log(n_bg / per_intent)) if n_bg > per_intent else 0.0

    def fit(rows: Rows, stage: str, lo: float, hi: float) -> LinearModel:
        model = fit_softmax(
            dense[rows], sparse.take(rows), vectorizer.size, y[rows], len(labels),
            l2=cfg.l2, epochs=cfg.epochs, seed=seed,
            progress=lambda f: report(stage, lo + (hi - lo) * f),
        )
        if len(labels) > len(intents):
            model.bias[len(intents) :] -= bg_offset
        return model

    kept = calibration(labels) if calibration is not None else None
    rng = np.random.default_rng(seed)
    folds = _folds(y, len(labels), rng, calibration_folds) if len(intents) > 1 and kept is None else []
    held_logits, held_y = [], []
    for f, held in enumerate(folds):
        rest = np.setdiff1d(np.arange(len(y)), held)
        if len(held) == 0 or len(np.unique(y[rest])) < 2:
            continue
        m = fit(rest, "calibration", f / len(folds), (f + 1) / len(folds))
        held_logits.append(m.logits(dense[held], sparse.take(held)))
        held_y.append(y[held])
    if held_logits:
        z, zy = np.concatenate(held_logits), np.concatenate(held_y)
        temperature = fit_temperature(z, zy)
        in_scope = zy < len(intents)
        threshold = choose_threshold(confidence(z[in_scope], temperature, len(intents)))
    elif kept is not None:
        temperature, threshold = kept
    else:
        temperature, threshold = 1.0, 0.0
    report("calibration", 1.0)

    linear = fit(np.arange(len(y)), "training", 0.0, 1.0)
    report("training", 1.0)
    judgement = None
    if include_judgement:
        from .judgement.heads import train_heads

        report("judgement", 0.0)
        judgement = train_heads(lambda ts: embedding.center(embed_texts(list(ts)), mean), seed=seed)
        report("judgement", 1.0)
    return NluModel(
        intents=intents,
        vectorizer=vectorizer,
        linear=linear,
        n_background=len(labels) - len(intents),
        temperature=temperature,
        threshold=threshold,
        dense_scale=cfg.dense_scale,
        sparse_scale=cfg.sparse_scale,
        mean=mean,
        judgement=judgement,
        meta={
            "examples": len(data),
            "intents": len(intents),
            "vocab": vectorizer.size,
            "train_seconds": round(time.perf_counter() - started, 3),
            "created": int(time.time()),
        },
    )
