"""Retraining after a knowledge-base change, and the pointer to the live model.

1. Every KB change puts a :class:`TrainJob` on the training queue (``TRAINING_QUEUE_NAME``).
2. The trainer function (SQS, batch size 1) reads the KB at its *current* version. If the live model
   already has that version (a burst of edits queues several jobs; the first one trains the latest
   state), the job is skipped as stale. Otherwise it trains, writes ``models/kb-v<version>.bin`` to
   the analytics/models bucket, and moves the ``MODEL#CURRENT`` pointer with a conditional write
   that never goes back to an older version.
3. Serving functions (:mod:`chalicelib.bot.serving`) read the pointer at most every
   ``BOT_MODEL_REFRESH_SECONDS`` and load a newer artifact when there is one.

The answers, titles and tags of the KB travel inside the artifact (``meta["kb"]``), so a model and
the answers it picks from always belong to the same KB version.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import ids
from chalicelib.bot.embedding_cache import OutOfTime
from chalicelib.store import keys
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.table import ConditionFailed, Table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from chalicelib.bot.embedding_cache import CacheStats, S3EmbeddingCache
    from chalicelib.bot.kb import KnowledgeBaseStore, Snapshot
    from chalicelib.bot.nlu import NluModel

logger = Logger(child=True)

MODEL_PREFIX = "models/"
# Small knowledge bases (this many examples or fewer) are calibrated with 2 folds instead of 4:
# training stays within seconds, and the calibration on a few dozen examples is noisy either way.
FAST_TRAINING_MAX_EXAMPLES = 400
# A large knowledge base keeps the live model's calibration (temperature, threshold) through small edits:
# calibrating refits the classifier on a held-out split, half of a retrain. It is done again once the
# texts new since the last calibration pass RECALIBRATE_SHARE of the examples, or the intents change.
KEEP_CALIBRATION_MIN_EXAMPLES = 2000
RECALIBRATE_SHARE = 0.05


def model_key(version: int) -> str:
    return f"{MODEL_PREFIX}kb-v{version}.bin"


class TrainJob(BaseModel):
    """Body of a message on the training queue."""

    model_config = ConfigDict(extra="ignore")

    kb_id: str = "default"
    version: int = Field(ge=0)
    requested_ms: int = Field(default_factory=ids.now_ms)
    requested_by: str | None = None
    reason: str = "kb_changed"


class Calibration(BaseModel):
    """How a model was calibrated, kept on its pointer so a small edit can reuse it."""

    model_config = ConfigDict(extra="ignore")

    temperature: float
    threshold: float
    labels: str  # digest of the label set it was calibrated for
    drift: int = 0  # texts embedded for the first time since it was calibrated


def labels_digest(labels: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(labels).encode("utf-8")).hexdigest()[:32]


class ModelPointer(BaseModel):
    """The ``MODEL#CURRENT`` item: which artifact serving functions use."""

    model_config = ConfigDict(extra="ignore")

    version: int
    s3_key: str
    trained_ms: int
    train_seconds: float = 0.0
    intents: int = 0
    examples: int = 0
    requested_ms: int | None = None
    calibration: Calibration | None = None


class ModelRegistry:
    """The model pointer in the table and the artifacts in S3."""

    def __init__(self, table: Table, s3: S3Client, bucket: Callable[[], str],
                 kb_id: str = "default") -> None:
        self._table = table
        self._s3 = s3
        self._bucket = bucket
        self._pk = keys.kb_pk(kb_id)
        self._key = {"pk": encode_value(self._pk), "sk": encode_value(keys.MODEL_CURRENT_SK)}

    def pointer(self, *, consistent: bool = False) -> ModelPointer | None:
        item = self._table.get_item(Key=self._key, ConsistentRead=consistent).get("Item")
        return ModelPointer.model_validate(decode(item)) if item else None

    def publish(self, blob: bytes, pointer: ModelPointer) -> bool:
        """Upload the artifact, then move the pointer unless it already names this or a newer version."""
        self._s3.put_object(Bucket=self._bucket(), Key=pointer.s3_key, Body=blob,
                            ContentType="application/octet-stream")
        item = {"pk": self._pk, "sk": keys.MODEL_CURRENT_SK, **pointer.model_dump()}
        try:
            self._table.put_item(Item=encode(item),
                              ConditionExpression="attribute_not_exists(pk) OR version < :v",
                              ExpressionAttributeValues={":v": encode_value(pointer.version)})
            return True
        except ConditionFailed:
            return False

    def load(self, pointer: ModelPointer) -> bytes:
        return self._s3.get_object(Bucket=self._bucket(), Key=pointer.s3_key)["Body"].read()


class TrainingQueue:
    """Puts train jobs on the training queue."""

    def __init__(self, sqs: SQSClient, queue_name: str | None) -> None:
        self._sqs = sqs
        self._name = queue_name
        self._url: str | None = None

    def enqueue(self, job: TrainJob) -> bool:
        if not self._name:
            logger.warning("TRAINING_QUEUE_NAME is not set; the knowledge base will not be retrained")
            return False
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._name)["QueueUrl"]
        self._sqs.send_message(QueueUrl=self._url, MessageBody=job.model_dump_json())
        return True


@dataclass(frozen=True)
class TrainOutcome:
    trained: bool
    version: int
    reason: str
    seconds: float = 0.0
    embeddings: CacheStats | None = None  # what the embedding cache found and did (issue 14)


def kb_meta(snapshot: Snapshot) -> dict[str, Any]:
    """What serving needs besides the classifier: answers, quick-reply titles and tags per intent."""
    from chalicelib.bot.nlu.language import detect_language

    out: dict[str, Any] = {}
    for intent in snapshot.enabled():
        titles = {lang: intent.title(lang) for lang in ("zh", "en")}
        # a title in the other language only when the entry has nothing in this one
        for lang in ("zh", "en"):
            if detect_language(titles[lang]) != lang and (own := intent.titles.get(lang)):
                titles[lang] = own
        out[intent.name] = {
            "answers": {lang: intent.answers.get(lang) for lang in ("zh", "en")},
            "titles": titles,
            "tags": intent.tags,
        }
    return {"version": snapshot.version, "intents": out}


def train_snapshot(snapshot: Snapshot, progress: Callable[[str, float], None] | None = None,
                   embed: Callable[[Sequence[str]], Any] | None = None,
                   calibration: Callable[[Sequence[str]], tuple[float, float] | None] | None = None) -> NluModel:
    """Train an NLU model on the enabled entries of ``snapshot``; its KB meta goes into the artifact.

    ``embed`` (texts to vectors) defaults to the encoder with a per-process memo; the trainer passes
    an :class:`~chalicelib.bot.embedding_cache.EmbeddingSession`'s.
    """
    from chalicelib.bot.nlu import train

    examples = snapshot.training_examples()
    model = train(examples, progress=progress, calibration_folds=fast_folds(len(examples)), embed=embed,
                  calibration=calibration)
    model.meta["kb"] = kb_meta(snapshot)
    return model


def fast_folds(n_examples: int) -> int | None:
    """Calibration folds for a KB of ``n_examples``: 2 for small ones, else the engine's default."""
    return 2 if n_examples <= FAST_TRAINING_MAX_EXAMPLES else None


class Trainer:
    """Handles one train job: train the current KB version unless it is already live."""

    def __init__(self, kb: KnowledgeBaseStore, registry: ModelRegistry,
                 embeddings: S3EmbeddingCache | None = None, continuation: TrainingQueue | None = None) -> None:
        self._kb = kb
        self._registry = registry
        self._embeddings = embeddings  # issue 14: vectors of unchanged examples are not computed again
        self._continuation = continuation

    def handle_records(self, records: Iterable[Any], context: LambdaContext | None = None) -> None:
        """The training queue's records (batch size 1): a failure raises, so SQS retries, then dead-letters.

        With the Lambda ``context``, a first training too large for one invocation (every text through
        the encoder) stops before the timeout with its vectors checkpointed in S3 and goes on in a new
        job on the training queue, each job embedding the next texts: it never dead-letters for size."""
        time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
        for record in records:
            job = parse_job(record.body)
            try:
                self.handle(job, time_left=time_left)
            except OutOfTime:
                if self._continuation is None or not self._continuation.enqueue(job):
                    raise
                logger.info("training continues in a new job", extra={"job_version": job.version})

    def handle(self, job: TrainJob, time_left: Callable[[], float] | None = None) -> TrainOutcome:
        live = self._registry.pointer(consistent=True)
        current = self._kb.version()
        if live is not None and live.version >= current:
            logger.info("train job skipped: the live model is current",
                        extra={"job_version": job.version, "live_version": live.version})
            return TrainOutcome(False, live.version, "stale")
        snapshot = self._kb.snapshot()
        if not snapshot.training_examples():
            logger.warning("knowledge base has no enabled entries; nothing to train",
                           extra={"kb_version": snapshot.version})
            return TrainOutcome(False, snapshot.version, "empty")
        started = time.perf_counter()
        session = self._embeddings.session(time_left) if self._embeddings is not None else None
        examples = len(snapshot.training_examples())
        kept: dict[str, int] = {}

        def keep_calibration(labels: Sequence[str]) -> tuple[float, float] | None:
            previous = live.calibration if live is not None else None
            if previous is None or session is None or examples < KEEP_CALIBRATION_MIN_EXAMPLES:
                return None
            drift = previous.drift + session.stats.embedded
            if previous.labels != labels_digest(labels) or drift > RECALIBRATE_SHARE * examples:
                return None
            kept["drift"] = drift
            return previous.temperature, previous.threshold

        model = train_snapshot(snapshot, embed=session.embed if session is not None else None,
                               calibration=keep_calibration)
        stats = session.save() if session is not None else None
        seconds = time.perf_counter() - started
        if stats is not None:
            logger.info("embedding cache", extra={"texts": stats.texts, "embedded": stats.embedded,
                                                  "from_s3": stats.from_s3, "from_memory": stats.from_memory,
                                                  "packs_read": stats.packs_read,
                                                  "packs_written": stats.packs_written})
        blob = model.to_bytes()
        pointer = ModelPointer(version=snapshot.version, s3_key=model_key(snapshot.version), trained_ms=ids.now_ms(),
                               train_seconds=round(seconds, 3), intents=len(snapshot.enabled()),
                               examples=examples, requested_ms=job.requested_ms,
                               calibration=Calibration(temperature=model.temperature, threshold=model.threshold,
                                                       labels=labels_digest(model.labels),
                                                       drift=kept.get("drift", 0)))
        published = self._registry.publish(blob, pointer)
        logger.info("model trained", extra={"kb_version": snapshot.version, "published": published,
                                            "train_seconds": round(seconds, 3), "artifact_bytes": len(blob),
                                            "calibration_kept": bool(kept)})
        return TrainOutcome(published, snapshot.version, "published" if published else "newer_exists", seconds,
                            stats)


def parse_job(body: str) -> TrainJob:
    return TrainJob.model_validate(json.loads(body))
