"""The one list of channels: name → adapter (with its `ChannelSpec`), and what is derived from it.

Adapters are stateless, so one shared instance per channel is handed out.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from chalicelib.core.channels import SOCKET_CHANNELS

from .generic import GenericAdapter
from .line import LineAdapter
from .messenger import MessengerAdapter
from .telegram import TelegramAdapter
from .wechat import WeChatAdapter
from .whatsapp import WhatsAppAdapter

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from .base import Adapter, Secrets
    from .models import InboundEvent, WebhookRequest
    from .policies import ChannelPolicy
    from .spec import ChannelSpec

# The one list of webhook channels: each adapter carries its ChannelSpec (chalicelib/channels/spec.py).
_ADAPTERS: dict[str, Adapter] = {adapter.spec.name: adapter for adapter in (
    WeChatAdapter(),
    WhatsAppAdapter(),
    MessengerAdapter(),
    TelegramAdapter(),
    LineAdapter(),
    GenericAdapter(),
)}

SUPPORTED_CHANNELS: tuple[str, ...] = tuple(_ADAPTERS)
# Every channel a conversation can be on: the WebSocket clients' and the webhook platforms'.
ALL_CHANNELS: tuple[str, ...] = (*SOCKET_CHANNELS, *SUPPORTED_CHANNELS)
POLICIES: Mapping[str, ChannelPolicy] = MappingProxyType({name: a.spec.policy for name, a in _ADAPTERS.items()})


class UnknownChannel(KeyError):
    """The channel path parameter names no supported platform (answer 404)."""


def spec_for(channel: str) -> ChannelSpec:
    return adapter_for(channel).spec


def adapter_for(channel: str) -> Adapter:
    try:
        return _ADAPTERS[channel]
    except KeyError:
        raise UnknownChannel(channel) from None


def verify_and_parse(
    channel: str, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
) -> list[InboundEvent]:
    """``verify`` then ``parse``: raises SignatureError / MalformedPayload / UnknownChannel."""
    adapter = adapter_for(channel)
    adapter.verify(request, secrets, now=now)
    return adapter.parse(request, secrets, now=now)
