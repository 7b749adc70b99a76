"""Retraining through the SQS handler, the model pointer, and serving picking up a new version live."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from kbdata import TINY_KB

from chalicelib import services as composition
from chalicelib.bot.kb import IntentBody, KnowledgeBaseDocument
from chalicelib.bot.serving import ModelProvider
from chalicelib.bot.training import ModelPointer, TrainJob, model_key


def _sqs_event(job: TrainJob) -> dict[str, Any]:
    return {"Records": [{
        "messageId": "m1", "receiptHandle": "r1", "body": job.model_dump_json(), "attributes": {},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:cs-platform-local-training", "awsRegion": "us-east-1",
    }]}


def _import(document: dict[str, Any]) -> int:
    store = composition.services().kb_store
    version, _, _ = store.replace_all(KnowledgeBaseDocument.model_validate(document), actor="t", replace=True)
    return version


def _bucket(aws: Any) -> str:
    return composition.services().bucket_name


def test_the_sqs_handler_trains_and_publishes_artifact_and_pointer(app_module, aws, table):
    version = _import(TINY_KB)

    app_module.train_model(_sqs_event(TrainJob(version=version)), None)

    pointer = table.get_item(Key={"pk": "KB#default", "sk": "MODEL#CURRENT"})["Item"]
    assert pointer["version"] == 1 and pointer["s3_key"] == "models/kb-v1.bin" == model_key(1)
    assert pointer["intents"] == 4 and pointer["examples"] == 36  # 24 questions, 12 answers and titles
    assert _bucket(aws).startswith("cs-platform-local-analytics-123456789012-us-east-1")
    blob = aws.client("s3").get_object(Bucket=_bucket(aws), Key="models/kb-v1.bin")["Body"].read()
    from chalicelib.bot.nlu import NluModel

    model = NluModel.from_bytes(blob)
    assert model.predict("where is my order").intent == "track_order"
    assert model.meta["kb"]["intents"]["track_order"]["answers"]["en"] == "You can track it under My orders."


def test_a_job_for_a_version_already_live_is_skipped(aws, kb_model):
    _import(TINY_KB)
    registry = composition.services().model_registry
    registry.publish(kb_model[1], ModelPointer(version=1, s3_key=model_key(1), trained_ms=1))

    outcome = composition.services().trainer.handle(TrainJob(version=1))

    assert (outcome.trained, outcome.reason) == (False, "stale")


def test_the_pointer_never_goes_back_to_an_older_version(aws, kb_model):
    registry = composition.services().model_registry
    assert registry.publish(kb_model[1], ModelPointer(version=3, s3_key=model_key(3), trained_ms=3)) is True
    assert registry.publish(kb_model[1], ModelPointer(version=2, s3_key=model_key(2), trained_ms=2)) is False
    assert registry.publish(kb_model[1], ModelPointer(version=3, s3_key=model_key(3), trained_ms=4)) is False
    assert registry.pointer().version == 3


def test_a_failed_training_is_retried_by_sqs(app_module, aws, monkeypatch):
    _import(TINY_KB)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("out of memory")

    monkeypatch.setattr("chalicelib.bot.training.train_snapshot", broken)
    with pytest.raises(RuntimeError):  # the record returns to the queue, then the DLQ after 3 receives
        app_module.train_model(_sqs_event(TrainJob(version=1)), None)
    assert composition.services().model_registry.pointer() is None


def test_a_kb_edit_changes_the_answer_without_a_restart(app_module, aws):
    now = [0.0]
    provider = ModelProvider(composition.services().model_registry, refresh_seconds=10, clock=lambda: now[0])
    assert provider.current() is None  # nothing trained yet

    _import(TINY_KB)
    app_module.train_model(_sqs_event(TrainJob(version=1)), None)
    now[0] = 10.0
    first = provider.current()
    assert first.version == 1
    assert first.entry("store_hours")["answers"]["en"] == "Our stores are open 10:00-22:00 every day."

    edited = IntentBody.model_validate({**TINY_KB["intents"]["store_hours"],
                                        "answers": {"en": "We now open 9:00-21:00.", "zh": "现在9点到21点营业。"}})
    version = composition.services().kb_store.put("store_hours", edited, actor="t").kb_version
    app_module.train_model(_sqs_event(TrainJob(version=version)), None)

    now[0] = 15.0  # within the refresh interval: the loaded model is kept, no table read
    assert provider.current() is first
    now[0] = 20.0
    assert provider.current().version == 2
    from chalicelib.bot.policy import DialoguePolicy

    decision = DialoguePolicy().decide("are you open on weekends?", provider.current())
    assert (decision.intent, decision.text) == ("store_hours", "We now open 9:00-21:00.")


def test_training_queue_and_trainer_are_in_infra_and_config():
    from infra.provision import load_template

    resources = load_template()["Resources"]
    queue = resources["TrainingQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "${AppName}-${Stage}-training"}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["TrainingDeadLetterQueue", "Arn"]}
    config = json.loads((wiring_root() / ".chalice" / "config.json").read_text())
    for stage, conf in config["stages"].items():
        assert conf["environment_variables"]["TRAINING_QUEUE_NAME"] == f"cs-platform-{stage}-training"
        trainer = conf["lambda_functions"]["train_model"]
        assert trainer["lambda_timeout"] >= 60 and trainer["lambda_memory_size"] >= 1024
        assert queue["VisibilityTimeout"] >= 6 * trainer["lambda_timeout"]


def wiring_root():
    from pathlib import Path

    return Path(os.path.dirname(os.path.abspath(composition.__file__))).parent
