"""Per-channel sending rules as data, and ``check_and_split`` which applies them.

Limits are conservative documented values: text length (and the unit the platform
counts in), quick-reply count/title/payload limits, media size limits, and the
customer-service window (WhatsApp and Messenger 24 h; WeChat customer-service
messages 48 h). ``check_and_split`` refuses with ``PolicyViolation`` (never drops
silently), trims quick replies, and splits long text on paragraph/sentence/space
boundaries without breaking characters (or combining sequences).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .errors import PolicyViolation
from .models import OutboundMessage, QuickReply

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime, timedelta

Unit = Literal["chars", "utf8", "utf16"]
MB = 1024 * 1024


@dataclass(frozen=True)
class ChannelPolicy:
    max_text: int
    text_unit: Unit = "chars"
    max_text_with_quick_replies: int | None = None  # e.g. WhatsApp interactive body
    max_caption: int | None = None  # text riding on a media message
    max_quick_replies: int = 0
    max_quick_reply_title: int = 20
    max_quick_reply_payload: int = 1000  # measured in text_unit ("utf8" for byte limits)
    quick_reply_payload_unit: Unit = "chars"
    max_media_bytes: Mapping[str, int] = field(default_factory=dict)
    service_window: timedelta | None = None
    tag_windows: Mapping[str, timedelta | None] = field(default_factory=dict)
    supports_templates: bool = False




# --- measuring and splitting --------------------------------------------------------------------


def measure(text: str, unit: Unit) -> int:
    if unit == "utf8":
        return len(text.encode("utf-8"))
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def _char_units(ch: str, unit: Unit) -> int:
    if unit == "chars":
        return 1
    if unit == "utf8":
        return len(ch.encode("utf-8"))
    return 2 if ord(ch) > 0xFFFF else 1


def _max_prefix(text: str, limit: int, unit: Unit) -> int:
    """Largest ``i`` with ``measure(text[:i]) <= limit``."""
    if unit == "chars":
        return min(limit, len(text))
    total = 0
    for i, ch in enumerate(text):
        total += _char_units(ch, unit)
        if total > limit:
            return i
    return len(text)


_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}


def _joins_previous(text: str, i: int) -> bool:
    """True when cutting before ``text[i]`` would split a combining/emoji sequence."""
    ch = text[i]
    return (
        bool(unicodedata.combining(ch))
        or ch in _JOINERS
        or text[i - 1] == "\u200d"
        or 0x1F3FB <= ord(ch) <= 0x1F3FF  # skin-tone modifiers
        or unicodedata.category(ch) == "Mn"
    )


_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…])\s+|(?<=[。！？；])"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int, unit: Unit = "chars") -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` units, preferring natural boundaries."""
    if limit < 4:
        raise ValueError("limit too small")
    chunks: list[str] = []
    rest = text.strip()
    while measure(rest, unit) > limit:
        cut = _max_prefix(rest, limit, unit)
        hard = cut
        while 0 < cut < len(rest) and _joins_previous(rest, cut):
            cut -= 1
        if cut == 0:
            cut = hard
        window = rest[:cut]
        split_at = None
        for level, pattern in enumerate(_BOUNDARIES):
            ends = [m.end() for m in pattern.finditer(window) if m.start() > 0]
            floor = 1 if level == len(_BOUNDARIES) - 1 else cut // 2
            good = [e for e in ends if e >= floor]
            if good:
                split_at = good[-1]
                break
        if split_at is None:
            split_at = cut
        chunk, rest = rest[:split_at].rstrip(), rest[split_at:].lstrip()
        if chunk:
            chunks.append(chunk)
    if rest:
        chunks.append(rest)
    return chunks


def _truncate(text: str, limit: int, unit: Unit) -> str:
    if measure(text, unit) <= limit:
        return text
    cut = _max_prefix(text, limit - 1, unit)
    while 0 < cut < len(text) and _joins_previous(text, cut):
        cut -= 1
    return text[:cut].rstrip() + "…"


# --- the check ----------------------------------------------------------------------------------


def _check_window(
    message: OutboundMessage, policy: ChannelPolicy, last: datetime | None, now: datetime
) -> None:
    if message.message_tag and message.message_tag not in policy.tag_windows:
        raise PolicyViolation(
            "unsupported_message_tag", f"{message.channel} does not accept tag {message.message_tag!r}"
        )
    if policy.service_window is None or message.template is not None:
        return
    window: timedelta | None = policy.service_window
    if message.message_tag:
        window = policy.tag_windows[message.message_tag]
    if window is None:
        return
    hours = int(window.total_seconds() // 3600)
    if last is None:
        raise PolicyViolation(
            f"outside_{hours}h_window",
            f"{message.channel}: the customer has never messaged us; only a template can be sent",
        )
    if now - last > window:
        raise PolicyViolation(
            f"outside_{hours}h_window",
            f"{message.channel}: last customer message at {last.isoformat()} is more than {hours}h "
            f"before {now.isoformat()}; send an approved template (or a permitted tag) instead",
        )


def _quick_replies(message: OutboundMessage, policy: ChannelPolicy) -> list[QuickReply]:
    out: list[QuickReply] = []
    for qr in message.quick_replies[: policy.max_quick_replies]:
        if measure(qr.payload, policy.quick_reply_payload_unit) > policy.max_quick_reply_payload:
            raise PolicyViolation(
                "quick_reply_payload_too_long",
                f"{message.channel}: quick-reply payload exceeds {policy.max_quick_reply_payload} "
                f"{policy.quick_reply_payload_unit}",
            )
        title = _truncate(qr.title, policy.max_quick_reply_title, "chars")
        out.append(QuickReply(title=title, payload=qr.payload))
    return out


def check_and_split(
    message: OutboundMessage, policy: ChannelPolicy, last_customer_message_at: datetime | None, now: datetime
) -> list[OutboundMessage]:
    """Validate ``message`` against its channel's policy and return the messages to send in order.

    Raises ``PolicyViolation`` (``outside_24h_window``/``outside_48h_window``/
    ``outside_168h_window``, ``empty_message``, ``template_unsupported``,
    ``media_too_large``, ``quick_reply_payload_too_long``, ``unsupported_message_tag``).
    """
    if not (message.text and message.text.strip()) and message.media is None and message.template is None:
        raise PolicyViolation("empty_message", "nothing to send: no text, media or template")
    if message.template is not None and not policy.supports_templates:
        raise PolicyViolation("template_unsupported", f"{message.channel} does not support templates")
    _check_window(message, policy, last_customer_message_at, now)
    media = message.media
    if media is not None and media.size_bytes is not None:
        limit = policy.max_media_bytes.get(media.type)
        if policy.max_media_bytes and limit is None:
            raise PolicyViolation("media_type_unsupported", f"{message.channel} cannot send {media.type}")
        if limit is not None and media.size_bytes > limit:
            raise PolicyViolation(
                "media_too_large", f"{media.type} of {media.size_bytes} bytes exceeds {limit}"
            )
    quick_replies = _quick_replies(message, policy)
    if message.template is not None:
        return [message.model_copy(update={"quick_replies": quick_replies})]
    if not (message.text and message.text.strip()):  # media only
        return [message.model_copy(update={"text": None, "quick_replies": quick_replies})]

    unit = policy.text_unit
    chunks = split_text(message.text, policy.max_text, unit)
    qr_limit = policy.max_text_with_quick_replies
    if quick_replies and qr_limit and measure(chunks[-1], unit) > qr_limit:
        chunks[-1:] = split_text(chunks[-1], qr_limit, unit)
    parts = [message.model_copy(update={"text": c, "media": None, "quick_replies": []}) for c in chunks]
    if media is not None:
        caption_ok = policy.max_caption is None or (
            len(chunks) == 1 and measure(chunks[0], unit) <= policy.max_caption and not quick_replies
        )
        if caption_ok:
            parts[0] = parts[0].model_copy(update={"media": media})
        else:  # media goes first on its own, the text follows
            parts.insert(0, message.model_copy(update={"text": None, "media": media, "quick_replies": []}))
    parts[-1] = parts[-1].model_copy(update={"quick_replies": quick_replies})
    return parts
