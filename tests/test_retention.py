"""Issue 16, retention: messages and connections expire after configurable periods (DynamoDB TTL on
`expires_at`), archived analytics objects and inbound originals by S3 lifecycle rules in infra/."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from chalicelib.core.models import DedupKey, MessageDraft, Sender
from chalicelib.settings import Settings
from chalicelib.store import keys
from chalicelib.store.codec import encode
from chalicelib.store.conversation_store import ConversationStore
from chalicelib.store.table import Table

ROOT = Path(__file__).resolve().parents[1]
BASE = {"AWS_REGION": "us-east-1", "TABLE_NAME": "t", "ESCALATION_QUEUE_NAME": "q", "INTERACTIONS_STREAM_NAME": "s",
        "ANALYTICS_BUCKET_NAME": "b"}


def test_retention_defaults_and_overrides() -> None:
    default = Settings.from_env(BASE)
    assert (default.message_retention_days, default.connection_ttl_seconds) == (365, 2 * 3600 + 600)
    custom = Settings.from_env({**BASE, "MESSAGE_RETENTION_DAYS": "30", "CONNECTION_TTL_SECONDS": "3600"})
    assert (custom.message_retention_days, custom.connection_ttl_seconds) == (30, 3600)
    assert Settings.from_env({**BASE, "MESSAGE_RETENTION_DAYS": "0"}).message_retention_days == 0  # kept


def test_a_message_expires_its_retention_after_it_was_written(aws) -> None:
    table = Table(aws.client("dynamodb"), os.environ["TABLE_NAME"])
    store = ConversationStore(table, message_ttl_seconds=30 * 86400)
    conversation_id, _ = store.open_conversation("alice", "app")
    draft = MessageDraft(sender=Sender(type="customer", id="alice"), channel="app", text="hi")
    message = store.append_message(conversation_id, draft, DedupKey("client#alice", "m1")).message
    item = table.get(encode({"pk": keys.conversation_pk(conversation_id), "sk": keys.message_sk(message.seq)}))
    assert item is not None and item["expires_at"] == message.ts_ms // 1000 + 30 * 86400
    assert item["dedup_ref"] == keys.dedup_pk("client#alice", "m1")  # erasure finds the idempotency copy by it

    kept = ConversationStore(table).append_message(conversation_id, draft).message
    item = table.get(encode({"pk": keys.conversation_pk(conversation_id), "sk": keys.message_sk(kept.seq)}))
    assert item is not None and "expires_at" not in item


def test_analytics_objects_expire_by_lifecycle_rules() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                                 if isinstance(node, yaml.ScalarNode) else None)
    template = yaml.load((ROOT / "infra" / "resources.yaml").read_text(), Loader=Loader)
    rules = {r["Prefix"]: r for r in
             template["Resources"]["AnalyticsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["events/"]["ExpirationInDays"] == "AnalyticsRetentionDays"
    assert template["Parameters"]["AnalyticsRetentionDays"]["Default"] == 730
    assert rules["inbound-originals/"]["ExpirationInDays"] == "OriginalsRetentionDays"
    assert template["Parameters"]["OriginalsRetentionDays"]["Default"] == 365
    assert rules["errors/"]["ExpirationInDays"] == 90
