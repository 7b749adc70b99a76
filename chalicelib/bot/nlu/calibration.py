"""Confidence calibration and the out-of-scope (OOS) decision.

Held-out logits from cross-validation on the training examples give (a) a softmax temperature
fitted by minimising negative log-likelihood, so that confidences behave like probabilities, and
(b) the OOS threshold: the confidence below which a message is answered with a fallback. The
knowledge base has no out-of-scope examples, so the threshold is a low quantile of the calibrated
confidence of held-out *in-scope* examples (``OOS_QUANTILE`` of them would be rejected). Explicit
out-of-scope examples, when a training set has them, are learned as a background class instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .linear import softmax

if TYPE_CHECKING:
    from .arrays import Floats, Labels

OOS_QUANTILE = 0.03
_TEMPERATURES = np.exp(np.linspace(np.log(0.05), np.log(5.0), 60))


def fit_temperature(logits: Floats, y: Labels) -> float:
    """Temperature minimising the NLL of held-out ``logits`` against labels ``y``."""
    best_t, best_nll = 1.0, np.inf
    rows = np.arange(len(y))
    for t in _TEMPERATURES:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        nll = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def confidence(logits: Floats, temperature: float, n_intents: int) -> Floats:
    """Calibrated probability of the best real intent (columns ``>= n_intents`` are background)."""
    best: Floats = softmax(logits / temperature)[:, :n_intents].max(axis=1)
    return best


def choose_threshold(in_scope_conf: Floats, quantile: float = OOS_QUANTILE) -> float:
    """OOS threshold: the ``quantile`` of held-out confidences of in-scope examples."""
    if len(in_scope_conf) == 0:
        return 0.0
    return float(np.quantile(in_scope_conf, quantile))
