"""The channels customers reach the platform on through the WebSocket API (the SDK, the widget,
the mini-program). The webhook platforms are listed by `chalicelib.channels.registry`."""

from __future__ import annotations

from typing import Final

SOCKET_CHANNELS: Final = ("app", "miniprogram", "web")
