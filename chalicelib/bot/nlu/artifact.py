"""Model artifact (de)serialisation to and from ``bytes``, without pickle.

Layout: the magic ``b"NLUM"``, a little-endian uint32 header length, a UTF-8 JSON header (format
version, metadata, vocabulary, labels, scalars) and then a compressed ``.npz`` with plain numeric
arrays, loaded with ``allow_pickle=False``. Unknown versions and malformed blobs raise
:class:`ArtifactError`, so a corrupt S3 object fails loudly instead of mis-classifying.
"""

from __future__ import annotations

import io
import json
import struct
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .arrays import Stored

MAGIC = b"NLUM"
FORMAT_VERSION = 1


class ArtifactError(ValueError):
    """The bytes are not a model artifact this code can read."""


def dump(header: dict[str, Any], arrays: dict[str, Stored]) -> bytes:
    """Serialise a JSON-able ``header`` and numeric ``arrays``."""
    head = json.dumps({**header, "format_version": FORMAT_VERSION}, ensure_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    for name, arr in arrays.items():
        if arr.dtype == object:
            raise ArtifactError(f"array {name!r} has dtype object")
    np.savez_compressed(buf, allow_pickle=False, **arrays)  # object arrays are refused above anyway
    return MAGIC + struct.pack("<I", len(head)) + head + buf.getvalue()


def load(blob: bytes) -> tuple[dict[str, Any], dict[str, Stored]]:
    """Inverse of :func:`dump`."""
    if len(blob) < 8 or blob[:4] != MAGIC:
        raise ArtifactError("not an NLU model artifact")
    (n,) = struct.unpack("<I", blob[4:8])
    try:
        header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError("corrupt artifact header") from exc
    if header.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"unsupported artifact version {header.get('format_version')!r}")
    try:
        with np.load(io.BytesIO(blob[8 + n :]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError) as exc:
        raise ArtifactError("corrupt artifact arrays") from exc
    return header, arrays
