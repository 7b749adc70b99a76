"""Channel name → adapter lookup and the list of supported channels.

Adapters are stateless, so one shared instance per channel is handed out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from .generic import GenericAdapter
from .line import LineAdapter
from .messenger import MessengerAdapter
from .models import Channel, InboundEvent, WebhookRequest
from .telegram import TelegramAdapter
from .wechat import WeChatAdapter
from .whatsapp import WhatsAppAdapter

if TYPE_CHECKING:
    from datetime import datetime

    from .base import Adapter, Secrets

SUPPORTED_CHANNELS: tuple[Channel, ...] = get_args(Channel)

_ADAPTERS: dict[str, Adapter] = {
    "wechat": WeChatAdapter(),
    "whatsapp": WhatsAppAdapter(),
    "messenger": MessengerAdapter(),
    "telegram": TelegramAdapter(),
    "line": LineAdapter(),
    "generic": GenericAdapter(),
}


class UnknownChannel(KeyError):
    """The channel path parameter names no supported platform (answer 404)."""


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
