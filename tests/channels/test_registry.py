"""Registry lookup, the Adapter protocol and WebhookRequest construction."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.channels.base import Adapter
from chalicelib.channels.errors import SignatureError
from chalicelib.channels.models import WebhookRequest
from chalicelib.channels.registry import SUPPORTED_CHANNELS, UnknownChannel, adapter_for, verify_and_parse

from .support import SECRETS, line_request, sample


def test_every_channel_has_an_adapter() -> None:
    assert set(SUPPORTED_CHANNELS) == {"wechat", "whatsapp", "messenger", "telegram", "line", "generic"}
    for channel in SUPPORTED_CHANNELS:
        adapter = adapter_for(channel)
        assert isinstance(adapter, Adapter) and adapter.spec.name == channel
    with pytest.raises(UnknownChannel):
        adapter_for("myspace")


def test_verify_and_parse() -> None:
    events = verify_and_parse("line", line_request(sample("line", "message_text.json")), SECRETS)
    assert [e.dedup_key for e in events] == ["line:01HFAKETEXT0000000000000"]
    with pytest.raises(SignatureError):
        verify_and_parse("line", line_request(b"{}", "bad"), SECRETS)


def test_webhook_request_from_chalice_and_case_insensitive_headers() -> None:
    fake_chalice = SimpleNamespace(
        method="post", headers={"X-Line-Signature": "abc"}, query_params=None, raw_body=b"{}"
    )
    req = WebhookRequest.from_chalice(fake_chalice)
    assert req.method == "POST" and req.query == {} and req.body == b"{}"
    assert req.header("x-line-signature") == "abc" and req.headers["X-LINE-SIGNATURE"] == "abc"
    assert "X-Line-Signature" in req.headers
