"""Shared helpers: sample loading, test secrets and request builders."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from chalicelib.channels.models import WebhookRequest

EVENTS = Path(__file__).resolve().parents[2] / "events"

SECRETS: dict[str, str] = {
    "WECHAT_TOKEN": "test_wechat_token",
    "WECHAT_APP_ID": "wxFAKE0000000001",
    "WECHAT_APP_SECRET": "fake_wechat_app_secret",
    "WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "WHATSAPP_APP_SECRET": "fake_whatsapp_app_secret",
    "WHATSAPP_VERIFY_TOKEN": "fake_wa_verify",
    "WHATSAPP_ACCESS_TOKEN": "FAKE_WA_ACCESS_TOKEN",
    "MESSENGER_APP_SECRET": "fake_messenger_app_secret",
    "MESSENGER_VERIFY_TOKEN": "fake_ms_verify",
    "MESSENGER_PAGE_TOKEN": "FAKE_PAGE_TOKEN",
    "TELEGRAM_SECRET_TOKEN": "fake-telegram-secret_1",
    "TELEGRAM_BOT_TOKEN": "123456:FAKE-bot-token",
    "LINE_CHANNEL_SECRET": "fake_line_channel_secret",
    "LINE_CHANNEL_TOKEN": "FAKE_LINE_CHANNEL_TOKEN",
    "GENERIC_WEBHOOK_SECRET": "fake_generic_secret",
    "GENERIC_CALLBACK_URL": "https://callback.example.invalid/hooks/outbound",
}


def sample(channel: str, name: str) -> bytes:
    return (EVENTS / "webhooks" / channel / name).read_bytes()


def sample_json(channel: str, name: str) -> Any:
    return json.loads(sample(channel, name))


def meta_request(body: bytes, app_secret: str) -> WebhookRequest:
    sig = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return WebhookRequest(headers={"X-Hub-Signature-256": f"sha256={sig}"}, body=body)


def line_request(body: bytes, channel_secret: str = SECRETS["LINE_CHANNEL_SECRET"]) -> WebhookRequest:
    sig = base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()
    return WebhookRequest(headers={"x-line-signature": sig}, body=body)
