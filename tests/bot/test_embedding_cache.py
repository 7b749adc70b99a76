"""Incremental training (issue 14): embeddings of unchanged examples come from S3 by content hash."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from kbdata import TINY_KB

from chalicelib import services as composition
from chalicelib.bot.embedding_cache import S3EmbeddingCache
from chalicelib.bot.kb import KnowledgeBaseDocument
from chalicelib.bot.nlu import embedding
from chalicelib.bot.training import Trainer, TrainJob


class CountingEncoder:
    """The real encoder (or a hash-based stand-in), recording every text it is asked to embed."""

    def __init__(self, real: bool = True) -> None:
        self.calls: list[str] = []
        self.real = real

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += list(texts)
        if self.real:
            return embedding.embed(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest() * 48, dtype=np.uint8)[: embedding.DIM]
                for t in texts]
        vectors = np.asarray(rows, dtype=np.float32) - 127.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _cache(encoder: CountingEncoder, **kwargs: Any) -> S3EmbeddingCache:
    s = composition.services()
    return S3EmbeddingCache(s.s3, lambda: s.bucket_name, encoder=("test-encoder", encoder), **kwargs)


def _import(document: dict[str, Any]) -> int:
    store = composition.services().kb_store
    version, _, _ = store.replace_all(KnowledgeBaseDocument.model_validate(document), actor="t", replace=True)
    return version


def test_a_retrain_embeds_only_the_edited_intent_and_unchanged_examples_come_from_s3(aws):
    s = composition.services()
    first = CountingEncoder()
    version = _import(TINY_KB)

    outcome = Trainer(s.kb_store, s.model_registry, _cache(first)).handle(TrainJob(version=version))

    assert outcome.trained and outcome.embeddings is not None
    assert "where is my order" in first.calls and outcome.embeddings.packs_written == 1

    # a new container (nothing in memory) after an edit of one intent
    edited = copy.deepcopy(TINY_KB)
    edited["intents"]["track_order"]["examples"].append("has my parcel shipped yet")
    edited["intents"]["track_order"]["answers"]["en"] = "Open My orders to see where it is."
    version = _import(edited)
    second = CountingEncoder()

    outcome = Trainer(s.kb_store, s.model_registry, _cache(second)).handle(TrainJob(version=version))

    assert outcome.trained
    assert sorted(second.calls) == ["Open My orders to see where it is.", "has my parcel shipped yet"]
    stats = outcome.embeddings
    assert stats is not None and stats.embedded == 2 and stats.from_s3 + stats.from_memory == stats.texts - 2
    assert stats.packs_read == 1 and stats.from_s3 > 0  # a new container: read from S3 (then memory)
    model = s.model_registry.load(s.model_registry.pointer(consistent=True))
    from chalicelib.bot.nlu import NluModel

    live = NluModel.from_bytes(model)
    assert live.predict("has my parcel shipped yet").intent == "track_order"
    assert live.meta["kb"]["intents"]["track_order"]["answers"]["en"] == "Open My orders to see where it is."


def test_cached_vectors_are_exactly_the_encoders(aws):
    texts = ["我的订单到哪了", "where is my order", "退款什么时候到账"]
    first = _cache(CountingEncoder()).session()
    first.embed(texts)
    assert first.save().packs_written == 1
    session = _cache(CountingEncoder()).session()
    session.embed(texts)  # nothing new: no pack is written
    assert session.save().packs_written == 0

    again = CountingEncoder()
    vectors = _cache(again).session().embed(texts)

    assert again.calls == []
    assert np.array_equal(vectors, embedding.embed(texts))


def test_packs_are_compacted_and_a_deleted_pack_is_only_a_miss(aws):
    s = composition.services()
    for n in range(4):  # four trainings, each with one new text: four packs
        session = _cache(CountingEncoder(real=False), max_packs=3).session()
        session.embed([f"text {i}" for i in range(n + 1)])
        stats = session.save()
    assert stats.packs_written == 1 and stats.packs_deleted == 3  # the fourth compacts
    listed = s.s3.list_objects_v2(Bucket=s.bucket_name, Prefix="embeddings/")["Contents"]
    assert len(listed) == 1

    encoder = CountingEncoder(real=False)
    cache = _cache(encoder, max_packs=3)
    cache.session().embed(["text 0", "text 3"])
    assert encoder.calls == []

    s.s3.delete_object(Bucket=s.bucket_name, Key=listed[0]["Key"])
    encoder = CountingEncoder(real=False)
    session = _cache(encoder).session()
    vectors = session.embed(["text 1", "text 2"])
    assert encoder.calls == ["text 1", "text 2"] and vectors.shape == (2, embedding.DIM)


def test_a_training_cut_short_leaves_its_checkpointed_vectors_for_the_retry(aws, monkeypatch):
    from chalicelib.bot import embedding_cache

    monkeypatch.setattr(embedding_cache, "CHECKPOINT_VECTORS", 4)
    cut_short = _cache(CountingEncoder(real=False)).session()
    for n in range(3):  # 9 texts embedded, never saved: the function timed out
        cut_short.embed([f"text {n}-{i}" for i in range(3)])

    retry = CountingEncoder(real=False)
    session = _cache(retry).session()
    session.embed([f"text {n}-{i}" for n in range(3) for i in range(3)])

    assert len(retry.calls) == 3 and session.stats.from_s3 == 6  # one checkpoint of 6, the last 3 again


def test_a_small_edit_keeps_the_live_calibration_until_the_edits_add_up(aws, monkeypatch):
    """Issue 14: a small edit of a large KB skips the calibration refit (half of a retrain) and reuses the
    live model's; the texts new since that calibration add up, and past RECALIBRATE_SHARE it is redone."""
    from chalicelib.bot import training

    monkeypatch.setattr(training, "KEEP_CALIBRATION_MIN_EXAMPLES", 1)  # TINY_KB stands for a large KB
    s = composition.services()
    encoder = CountingEncoder(real=False)

    def retrain(document: dict[str, Any]) -> training.Calibration:
        trainer = Trainer(s.kb_store, s.model_registry, _cache(encoder))
        assert trainer.handle(TrainJob(version=_import(document))).trained
        pointer = s.model_registry.pointer(consistent=True)
        assert pointer is not None and pointer.calibration is not None
        monkeypatch.setattr(training, "RECALIBRATE_SHARE", 4.5 / pointer.examples)  # 4 new texts are still small
        return pointer.calibration

    first = retrain(TINY_KB)
    assert first.drift == 0
    edited = copy.deepcopy(TINY_KB)
    edited["intents"]["track_order"]["examples"] += ["has my parcel shipped yet", "parcel status please"]
    kept = retrain(edited)
    assert (kept.temperature, kept.threshold, kept.drift) == (first.temperature, first.threshold, 2)

    edited["intents"]["track_order"]["examples"] += ["is the box on its way", "when does my parcel come"]
    assert retrain(edited).drift == 4  # 2 + 2 new texts: still kept
    edited["intents"]["track_order"]["examples"] += ["any news on my delivery"]
    assert retrain(edited).drift == 0  # 5 > 4.5: calibrated again

    renamed = copy.deepcopy(edited)
    renamed["intents"]["parcel_status"] = renamed["intents"].pop("track_order")
    assert retrain(renamed).drift == 0  # another label set: never reused


class _Budget:
    """A Lambda context whose remaining time runs out after `chunks` encoder calls."""

    def __init__(self, encoder: CountingEncoder, chunks: int) -> None:
        self.encoder, self.chunks = encoder, chunks

    def get_remaining_time_in_millis(self) -> int:
        from chalicelib.bot.embedding_cache import TIME_RESERVE_SECONDS

        calls = len(self.encoder.calls)
        return 120_000 if calls < self.chunks * 256 else int(TIME_RESERVE_SECONDS * 1000) - 1


def test_a_first_training_too_large_for_one_invocation_goes_on_in_new_jobs_until_it_is_live(aws, monkeypatch):
    from chalicelib.bot import embedding_cache

    monkeypatch.setattr(embedding_cache, "CHECKPOINT_VECTORS", 10_000)  # only the time budget checkpoints
    document = copy.deepcopy(TINY_KB)
    for n, name in enumerate(list(document["intents"])[:2]):
        document["intents"][name]["examples"] += [f"example {n}-{i} of a large knowledge base" for i in range(300)]
    version = _import(document)
    services = composition.services()
    encoder = CountingEncoder(real=False)
    trainer = Trainer(services.kb_store, services.model_registry, _cache(encoder),
                      continuation=services.training_queue)
    queue_url = services.sqs.get_queue_url(QueueName=services.settings.training_queue_name)["QueueUrl"]
    services.sqs.purge_queue(QueueUrl=queue_url)

    class Record:
        body = TrainJob(version=version).model_dump_json()

    invocations = 0
    records = [Record()]
    while records:  # as SQS would deliver each continuation to a new invocation
        invocations += 1
        trainer.handle_records(records, _Budget(encoder, chunks=invocations))
        messages = services.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        records = []
        for message in messages:
            services.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            records.append(type("Continued", (), {"body": message["Body"]})())
        assert invocations < 10

    pointer = services.model_registry.pointer(consistent=True)
    assert pointer is not None and pointer.version == version
    assert invocations >= 3  # more than 2 chunks of 256 texts: it did not fit one invocation
    assert len(encoder.calls) == len(set(encoder.calls))  # each text through the encoder once, across the jobs
