"""Sentence embeddings of knowledge-base texts kept in S3 by content hash, so retraining embeds only what changed.

Embedding every example dominates training a large knowledge base (about 10 ms of encoder time per
text on one core: 10,000 examples take minutes), while an edit changes a handful of them. The
trainer therefore asks an :class:`EmbeddingSession` for its vectors: each text is looked up by
``sha256(encoder, token budget, text)``, first in the container's memory, then in the packs stored
in S3; only the texts found nowhere go through the encoder, and they are written back as one new
pack at the end of the training.

S3 layout, in the models bucket: ``embeddings/<encoder>/pack-<ms>-<random>.npz``, each an ``.npz``
(no pickle) of ``digests`` (uint8, ``n x 16``: the first 128 bits of the hash) and ``vectors``
(float32, ``n x 384``; the exact vectors, so a cached text trains exactly as a freshly embedded one).
Packs are immutable and only ever added, so concurrent trainers cannot corrupt each other's work.
When more than ``max_packs`` have accumulated, the trainer writes one pack holding every vector this
training used and deletes the packs it had read (a pack added meanwhile by another trainer is kept;
a pack deleted under a reader is a cache miss, never an error). Vectors of texts no longer in the KB
disappear at that compaction.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mypy_boto3_s3 import S3Client

    from chalicelib.bot.nlu.arrays import Float32

logger = Logger(child=True)

PREFIX = "embeddings/"
DIGEST_BYTES = 16
MAX_PACKS = 8
# A cold training of a large KB writes its new vectors every this many, so a training cut short by the
# function's timeout leaves them behind: the queue's retry embeds only the rest.
CHECKPOINT_VECTORS = 2048
# A training with a time budget (the function's remaining time) stops embedding when less than this is
# left: it checkpoints what it embedded and raises OutOfTime, and the trainer continues in a new job.
# Embedding one chunk of 256 texts takes under 10 s on one core; the rest is the checkpoint and the job.
TIME_RESERVE_SECONDS = 30.0
_PARALLEL_GETS = 16


def _default_encoder() -> tuple[str, Callable[[Sequence[str]], Float32]]:
    from chalicelib.bot.nlu import embedding

    return f"{embedding.ENCODER_NAME}|{embedding.INPUT_RULE}", embedding.embed


class OutOfTime(Exception):
    """The session's time budget ran out; what it embedded is checkpointed in S3."""


@dataclass
class CacheStats:
    """What one training session found and did."""

    texts: int = 0  # distinct texts asked for
    from_memory: int = 0
    from_s3: int = 0
    embedded: int = 0
    packs_read: int = 0
    packs_written: int = 0
    packs_deleted: int = 0
    load_seconds: float = 0.0
    encode_seconds: float = 0.0
    save_seconds: float = 0.0


class S3EmbeddingCache:
    """The container's view of the embedding packs in S3 (vectors read once per container, kept in memory)."""

    def __init__(self, s3: S3Client, bucket: Callable[[], str], *,
                 encoder: tuple[str, Callable[[Sequence[str]], Float32]] | None = None,
                 prefix: str = PREFIX, max_packs: int = MAX_PACKS, max_memory: int = 200_000) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._encoder = encoder
        self._prefix = prefix
        self.max_packs = max_packs
        self._max_memory = max_memory
        self._lock = threading.Lock()
        self._vectors: dict[bytes, Float32] = {}
        self._loaded_packs: set[str] = set()

    def _encoder_pair(self) -> tuple[str, Callable[[Sequence[str]], Float32]]:
        if self._encoder is None:
            self._encoder = _default_encoder()
        return self._encoder

    @property
    def pack_prefix(self) -> str:
        name = self._encoder_pair()[0]
        slug = "".join(c if c.isalnum() or c in "-._" else "_" for c in name)
        return f"{self._prefix}{slug}/"

    def digest(self, text: str) -> bytes:
        return hashlib.sha256(f"{self._encoder_pair()[0]}\n{text}".encode()).digest()[:DIGEST_BYTES]

    def session(self, time_left: Callable[[], float] | None = None) -> EmbeddingSession:
        """A training's use of the cache: ``embed`` as often as needed, then ``save`` once.

        ``time_left`` (seconds, e.g. the Lambda context's remaining time) makes ``embed`` raise
        :class:`OutOfTime` instead of encoding when fewer than TIME_RESERVE_SECONDS are left."""
        return EmbeddingSession(self, time_left)

    # -- S3 ----------------------------------------------------------------------------------

    def _list_packs(self) -> list[str]:
        keys: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self._bucket(), "Prefix": self.pack_prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._s3.list_objects_v2(**kwargs)
            keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".npz")]
            if not page.get("IsTruncated"):
                return sorted(keys)
            token = page.get("NextContinuationToken")

    def _read_pack(self, key: str) -> tuple[Float32, Float32] | None:
        import numpy as np

        try:
            body = self._s3.get_object(Bucket=self._bucket(), Key=key)["Body"].read()
            with np.load(io.BytesIO(body), allow_pickle=False) as npz:
                digests, vectors = npz["digests"], npz["vectors"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None  # compacted away by another trainer meanwhile: its vectors are in a newer pack
            raise
        except (ValueError, OSError, KeyError, EOFError):
            logger.warning("unreadable embedding pack skipped", extra={"key": key})
            return None
        if digests.ndim != 2 or digests.shape[1] != DIGEST_BYTES or len(digests) != len(vectors):
            logger.warning("malformed embedding pack skipped", extra={"key": key})
            return None
        return digests, vectors

    def refresh(self, stats: CacheStats) -> list[str]:
        """Read the packs this container has not read yet; returns every pack key listed."""
        started = time.perf_counter()
        listed = self._list_packs()
        with self._lock:
            new = [k for k in listed if k not in self._loaded_packs]
        if new:
            with ThreadPoolExecutor(max_workers=min(_PARALLEL_GETS, len(new))) as pool:
                packs = list(pool.map(self._read_pack, new))
            with self._lock:
                if len(self._vectors) > self._max_memory:
                    self._vectors.clear()
                    self._loaded_packs.clear()
                for key, pack in zip(new, packs, strict=True):
                    self._loaded_packs.add(key)
                    if pack is None:
                        continue
                    digests, vectors = pack
                    for d, v in zip(digests, vectors, strict=True):
                        self._vectors[d.tobytes()] = v
            stats.packs_read += len(new)
        stats.load_seconds += time.perf_counter() - started
        return listed

    def write_pack(self, digests: list[bytes], vectors: Float32) -> str:
        import numpy as np

        buf = io.BytesIO()
        raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(len(digests), DIGEST_BYTES)
        np.savez(buf, digests=raw, vectors=np.ascontiguousarray(vectors, dtype=np.float32))
        key = f"{self.pack_prefix}pack-{int(time.time() * 1000):013d}-{secrets.token_hex(4)}.npz"
        self._s3.put_object(Bucket=self._bucket(), Key=key, Body=buf.getvalue(),
                            ContentType="application/octet-stream")
        with self._lock:
            self._loaded_packs.add(key)
        return key

    def delete_packs(self, keys: list[str]) -> int:
        deleted = 0
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            self._s3.delete_objects(Bucket=self._bucket(),
                                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
            deleted += len(chunk)
        with self._lock:
            self._loaded_packs.difference_update(keys)
        return deleted

    # -- the session's helpers -----------------------------------------------------------------

    def lookup(self, digests: Sequence[bytes]) -> list[Float32 | None]:
        with self._lock:
            return [self._vectors.get(d) for d in digests]

    def remember(self, digests: Sequence[bytes], vectors: Float32) -> None:
        with self._lock:
            for d, v in zip(digests, vectors, strict=True):
                self._vectors[d] = v

    def encode(self, texts: Sequence[str]) -> Float32:
        return self._encoder_pair()[1](texts)


class EmbeddingSession:
    """One training's embeddings: cached vectors where the text is known, the encoder for the rest."""

    def __init__(self, cache: S3EmbeddingCache, time_left: Callable[[], float] | None = None) -> None:
        self._cache = cache
        self._time_left = time_left
        self.stats = CacheStats()
        self._listed: list[str] | None = None
        self._used: dict[bytes, None] = {}
        self._new: dict[bytes, Float32] = {}  # embedded by this training
        self._pending: dict[bytes, Float32] = {}  # of those, not yet in a pack
        self._written: list[str] = []  # checkpoint packs of this training

    def embed(self, texts: Sequence[str]) -> Float32:
        """``(len(texts), 384)`` float32 unit vectors, as :func:`chalicelib.bot.nlu.embedding.embed` gives."""
        import numpy as np

        digests = [self._cache.digest(t) for t in texts]
        found = self._cache.lookup(digests)
        in_memory = [v is not None for v in found]
        if not all(in_memory) and self._listed is None:
            # first miss of this training: read the packs other containers wrote since ours last looked
            self._listed = self._cache.refresh(self.stats)
            found = self._cache.lookup(digests)
        seen = set(self._used)
        missing = list(dict.fromkeys(t for t, v in zip(texts, found, strict=True) if v is None))
        for d, memory, v in zip(digests, in_memory, found, strict=True):
            if d not in seen:
                seen.add(d)
                self.stats.texts += 1
                if memory:
                    self.stats.from_memory += 1
                elif v is not None:
                    self.stats.from_s3 += 1
            self._used.setdefault(d)
        if missing and self._time_left is not None and self._time_left() < TIME_RESERVE_SECONDS:
            if self._pending:
                self._checkpoint()
            raise OutOfTime(f"{len(missing)} texts of this chunk not embedded: out of time")
        if missing:
            started = time.perf_counter()
            vectors = np.asarray(self._cache.encode(missing), dtype=np.float32)
            self.stats.encode_seconds += time.perf_counter() - started
            self.stats.embedded += len(missing)
            new_digests = [self._cache.digest(t) for t in missing]
            self._cache.remember(new_digests, vectors)
            self._new.update(zip(new_digests, vectors, strict=True))
            self._pending.update(zip(new_digests, vectors, strict=True))
            if len(self._pending) >= CHECKPOINT_VECTORS:
                self._checkpoint()
            found = self._cache.lookup(digests)
            rows = [v if v is not None else self._new[d] for d, v in zip(digests, found, strict=True)]
        else:
            rows = [v for v in found if v is not None]
        if not rows:
            from chalicelib.bot.nlu.embedding import DIM

            return np.zeros((0, DIM), dtype=np.float32)
        return np.ascontiguousarray(np.stack(rows).astype(np.float32, copy=False))

    def _checkpoint(self) -> None:
        import numpy as np

        try:
            self._written.append(self._cache.write_pack(list(self._pending), np.stack(list(self._pending.values()))))
            self.stats.packs_written += 1
            self._pending.clear()
        except ClientError:
            logger.exception("could not checkpoint the embedding cache")

    def save(self) -> CacheStats:
        """Write this training's new vectors as one pack; compact when too many packs have accumulated."""
        import numpy as np

        started = time.perf_counter()
        listed = self._listed if self._listed is not None else []
        try:
            written = self.stats.packs_written + (1 if self._pending else 0)
            if self._listed is not None and len(listed) + written > self._cache.max_packs:
                digests = list(self._used)
                found = self._cache.lookup(digests)
                keep = [(d, v) for d, v in zip(digests, found, strict=True) if v is not None]
                if keep:
                    self._cache.write_pack([d for d, _ in keep], np.stack([v for _, v in keep]))
                    self.stats.packs_written += 1
                    self.stats.packs_deleted += self._cache.delete_packs([*listed, *self._written])
            elif self._pending:
                self._cache.write_pack(list(self._pending), np.stack(list(self._pending.values())))
                self.stats.packs_written += 1
        except ClientError:
            # the model is trained either way; the next training embeds these texts again
            logger.exception("could not save the embedding cache")
        self._new.clear()
        self._pending.clear()
        self.stats.save_seconds += time.perf_counter() - started
        return self.stats
