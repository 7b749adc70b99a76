"""Type aliases for the classifier's numpy arrays; import them under ``TYPE_CHECKING`` only.

Features, embeddings and stored weights are ``float32`` by construction (:data:`Float32`). Scores
computed from them (logits, probabilities, confidences) are :data:`Floats`: float32 at run time
too, but numpy's stubs widen the precision of arithmetic on float32 arrays, so the annotation says
"a float array" rather than claim a precision the type checker cannot follow.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

Float32: TypeAlias = NDArray[np.float32]
Floats: TypeAlias = NDArray[np.floating[Any]]
Labels: TypeAlias = NDArray[np.int64]  # integer class labels, one per example
Rows: TypeAlias = NDArray[np.int64] | NDArray[np.intp]  # row indices into a feature block
Stored: TypeAlias = NDArray[np.generic]  # an array of a model artifact (float16, float32, ...)
