"""The trained NLU model: prediction, calibrated confidence and the OOS decision.

:class:`NluModel` bundles the TF-IDF vocabulary, the encoder centre, the linear classifier weights, the calibration
temperature and OOS threshold. ``predict`` embeds the message (lazily loading the encoder once per
process), scores every intent, and returns a :class:`Prediction` whose ``intent`` is ``None`` when
the best calibrated confidence is under the threshold or a background (out-of-scope) class wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import artifact, embedding
from .calibration import confidence
from .embedding import DIM, ENCODER_NAME
from .features import TfidfVectorizer
from .language import detect_language
from .linear import Csr, LinearModel, softmax
from .types import Judged, Prediction

if TYPE_CHECKING:
    from .arrays import Float32, Floats, Stored
    from .judgement.heads import JudgementHeads

if TYPE_CHECKING:
    from collections.abc import Sequence

BACKGROUND = "__oos__"


@dataclass
class NluModel:
    """A trained intent classifier; build with :func:`chalicelib.bot.nlu.train` or :meth:`from_bytes`."""

    intents: list[str]
    vectorizer: TfidfVectorizer
    linear: LinearModel
    n_background: int
    temperature: float
    threshold: float
    dense_scale: float
    sparse_scale: float
    mean: Float32 = field(default_factory=lambda: np.zeros(DIM, dtype=np.float32))
    meta: dict[str, Any] = field(default_factory=dict)
    judgement: JudgementHeads | None = None  # handoff / sentiment heads; None in older artifacts

    @property
    def labels(self) -> list[str]:
        """The classes in output order: the intents, then the background (out-of-scope) class if any."""
        return self.intents + [BACKGROUND] * self.n_background

    # ---------------------------------------------------------------- scoring
    def _centred(self, texts: Sequence[str]) -> Float32:
        return embedding.center(embedding.embed(list(texts)), self.mean)

    def _logits_from(self, centred: Float32, texts: Sequence[str]) -> Floats:
        sparse = Csr(*self.vectorizer.transform(embedding.lexical_view(t) for t in texts))
        sparse.data *= self.sparse_scale
        return self.linear.logits(centred * self.dense_scale, sparse)

    def logits(self, texts: Sequence[str]) -> Floats:
        """Raw scores, shape ``(len(texts), intents + background)``."""
        return self._logits_from(self._centred(texts), texts)

    def _decide(self, text: str, row: Floats) -> Prediction:
        n = len(self.intents)
        probs = softmax(row / self.temperature)
        order = np.argsort(-probs[:n])[:3]
        top = [(self.intents[i], round(float(probs[i]), 4)) for i in order]
        best = int(order[0]) if n else -1
        conf = float(probs[best]) if n else 0.0
        background = self.n_background > 0 and float(probs[n:].max()) > conf
        in_scope = bool(text.strip()) and n > 0 and conf >= self.threshold and not background
        return Prediction(
            intent=self.intents[best] if in_scope else None,
            confidence=round(conf, 4),
            language=detect_language(embedding.lexical_view(text)),  # a long message: its head and tail
            top=top,
            in_scope=in_scope,
        )

    def predict(self, text: str) -> Prediction:
        """Classify one message."""
        return self._decide(text, self.logits([text])[0])

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify many messages at once (batched embedding; same results as :meth:`predict`)."""
        if not texts:
            return []
        z = self.logits(texts)
        return [self._decide(t, row) for t, row in zip(texts, z, strict=True)]

    def judge_many(self, texts: Sequence[str]) -> list[Judged]:
        """Intent, handoff request and sentiment of each text from one embedding per text.

        The handoff and sentiment heads (when the artifact has them) read the same centred embedding
        as the intent classifier, so judging costs no extra encoder call; without heads the rules
        of :mod:`chalicelib.bot.handoff` and :mod:`chalicelib.bot.sentiment` decide alone.
        """
        from .judgement.judge import judge_many

        if not texts:
            return []
        centred = self._centred(texts)
        z = self._logits_from(centred, texts)
        # the rules and the heads' n-grams read the same bounded view of a long message as the intent n-grams
        judged = judge_many([embedding.lexical_view(t) for t in texts], centred, self.judgement)
        return [Judged(self._decide(t, row), wants_human=h, sentiment=s)
                for t, row, (h, s) in zip(texts, z, judged, strict=True)]

    def judge(self, text: str) -> Judged:
        """:meth:`judge_many` for one message."""
        return self.judge_many([text])[0]

    def confidences(self, texts: Sequence[str]) -> Floats:
        """Calibrated best-intent confidence of each text."""
        return confidence(self.logits(texts), self.temperature, len(self.intents))

    # ---------------------------------------------------------- serialisation
    def to_bytes(self) -> bytes:
        """Serialise to a compact, pickle-free artifact (see :mod:`.artifact`)."""
        header = {
            "kind": "nlu-intent-model",
            "encoder": ENCODER_NAME,
            "dense_dim": DIM,
            "intents": self.intents,
            "n_background": self.n_background,
            "temperature": self.temperature,
            "threshold": self.threshold,
            "dense_scale": self.dense_scale,
            "sparse_scale": self.sparse_scale,
            "vocab": self.vectorizer.vocab,
            "meta": self.meta,
        }
        arrays: dict[str, Stored] = {
            "a": self.linear.a.astype(np.float16),
            "b": self.linear.b.astype(np.float16),
            "bias": self.linear.bias.astype(np.float32),
            "idf": np.asarray(self.vectorizer.idf, dtype=np.float32),
            "mean": np.asarray(self.mean, dtype=np.float32),
        }
        if self.judgement is not None:
            from .judgement.heads import to_artifact

            extra_header, extra_arrays = to_artifact(self.judgement)
            header.update(extra_header)
            arrays.update(extra_arrays)
        return artifact.dump(header, arrays)

    @classmethod
    def from_bytes(cls, blob: bytes) -> NluModel:
        """Load an artifact produced by :meth:`to_bytes`."""
        header, arrays = artifact.load(blob)
        if header.get("kind") != "nlu-intent-model" or header.get("encoder") != ENCODER_NAME:
            raise artifact.ArtifactError("artifact was built for another model kind or encoder")
        from .judgement.heads import from_artifact

        try:
            vocab = header["vocab"]
            intents = [str(x) for x in header["intents"]]
            linear = LinearModel(
                a=arrays["a"].astype(np.float32),
                b=arrays["b"].astype(np.float32),
                bias=arrays["bias"].astype(np.float32),
            )
            n_out = len(intents) + int(header["n_background"])
            if linear.a.shape != (DIM, n_out) or linear.b.shape != (len(vocab), n_out):
                raise artifact.ArtifactError("artifact weight shapes do not match its header")
            return cls(
                intents=intents,
                vectorizer=TfidfVectorizer(vocab, arrays["idf"].tolist()),
                linear=linear,
                n_background=int(header["n_background"]),
                temperature=float(header["temperature"]),
                threshold=float(header["threshold"]),
                dense_scale=float(header["dense_scale"]),
                sparse_scale=float(header["sparse_scale"]),
                mean=arrays["mean"].astype(np.float32) if "mean" in arrays else np.zeros(DIM, np.float32),
                meta=dict(header.get("meta", {})),
                judgement=from_artifact(header, arrays, DIM),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, artifact.ArtifactError):
                raise
            raise artifact.ArtifactError(f"malformed artifact: {exc}") from exc
