"""Channel policies: service windows, splitting, quick-reply trimming, media limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.channels.errors import PolicyViolation
from chalicelib.channels.models import OutboundMedia, OutboundMessage, QuickReply, Template
from chalicelib.channels.policies import check_and_split, measure, split_text
from chalicelib.channels.registry import POLICIES

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RECENT = NOW - timedelta(hours=1)


def split(message, last_customer_message_at, now):
    return check_and_split(message, POLICIES[message.channel], last_customer_message_at, now)


def msg(channel: str = "whatsapp", **kw) -> OutboundMessage:
    kw.setdefault("text", "hello")
    ctx = {"phone_number_id": "1"} if channel == "whatsapp" else {}
    return OutboundMessage(channel=channel, recipient_id="u1", reply_context=ctx, **kw)


@pytest.mark.parametrize("channel", ["whatsapp", "messenger"])
def test_outside_24h_window_refused_with_reason(channel: str) -> None:
    with pytest.raises(PolicyViolation) as exc:
        split(msg(channel), NOW - timedelta(hours=24, seconds=1), NOW)
    assert exc.value.code == "outside_24h_window"
    assert "template" in exc.value.reason
    with pytest.raises(PolicyViolation, match="never messaged"):
        split(msg(channel), None, NOW)
    assert split(msg(channel), NOW - timedelta(hours=23, minutes=59), NOW)[0].text == "hello"


def test_template_allowed_outside_window_and_messenger_tag() -> None:
    tpl = msg("whatsapp", text=None, template=Template(name="order_update", params=["1"]))
    assert split(tpl, None, NOW) == [tpl]
    tagged = msg("messenger", message_tag="HUMAN_AGENT")
    assert split(tagged, NOW - timedelta(days=6), NOW)[0].message_tag == "HUMAN_AGENT"
    with pytest.raises(PolicyViolation) as exc:
        split(tagged, NOW - timedelta(days=8), NOW)
    assert exc.value.code == "outside_168h_window"
    with pytest.raises(PolicyViolation, match="unsupported_message_tag"):
        split(msg("messenger", message_tag="PROMO"), RECENT, NOW)
    with pytest.raises(PolicyViolation, match="template_unsupported"):
        split(msg("telegram", template=Template(name="x")), RECENT, NOW)


def test_no_window_on_telegram_line_generic_and_48h_on_wechat() -> None:
    for channel in ("telegram", "line", "generic"):
        assert split(msg(channel), None, NOW)
    with pytest.raises(PolicyViolation) as exc:
        split(msg("wechat"), NOW - timedelta(hours=49), NOW)
    assert exc.value.code == "outside_48h_window"


def test_empty_and_media_limits() -> None:
    with pytest.raises(PolicyViolation, match="empty_message"):
        split(msg("telegram", text="   "), RECENT, NOW)
    big = OutboundMedia(type="image", url="https://x.invalid/a.jpg", size_bytes=6 * 1024 * 1024)
    with pytest.raises(PolicyViolation, match="media_too_large"):
        split(msg("whatsapp", media=big), RECENT, NOW)
    assert split(msg("messenger", media=big), RECENT, NOW)[0].media == big


def test_split_long_text_on_sentence_boundaries() -> None:
    sentence = "This is sentence number {:04d}, it is fine. "
    text = "".join(sentence.format(i) for i in range(200))  # ~9000 chars
    parts = split(msg("messenger", text=text), RECENT, NOW)
    assert len(parts) >= 5
    for part in parts:
        assert part.text is not None and len(part.text) <= 2000
        assert part.text.endswith("fine.")  # cut after a full stop, not mid-sentence
    assert " ".join(p.text or "" for p in parts) == text.strip()


def test_split_respects_utf8_bytes_and_never_breaks_characters() -> None:
    text = "你好世界。" * 300 + "😀" * 100  # CJK sentences then 4-byte emoji, no spaces
    chunks = split_text(text, 2048, "utf8")
    assert "".join(chunks) == text
    for chunk in chunks:
        assert len(chunk.encode("utf-8")) <= 2048
        chunk.encode("utf-8").decode("utf-8")
    assert chunks[0].endswith("。")


def test_split_utf16_and_combining_sequences() -> None:
    family = "👩\u200d👩\u200d👧"  # ZWJ sequence, 8 UTF-16 units
    text = family * 50
    chunks = split_text(text, 20, "utf16")
    assert "".join(chunks) == text
    assert all(measure(c, "utf16") <= 20 for c in chunks)
    assert all(not c.startswith("\u200d") and not c.endswith("\u200d") for c in chunks)
    accented = "e\u0301" * 30  # e + combining acute
    chunks = split_text(accented, 9, "chars")
    assert all(not unicode_starts_with_mark(c) for c in chunks)
    assert "".join(chunks) == accented


def unicode_starts_with_mark(s: str) -> bool:
    import unicodedata

    return bool(s) and unicodedata.combining(s[0]) > 0


def test_hard_cut_without_whitespace() -> None:
    chunks = split_text("x" * 25, 10)
    assert chunks == ["x" * 10, "x" * 10, "x" * 5]


def test_quick_replies_trimmed_and_on_last_part() -> None:
    qrs = [QuickReply(title=f"A very long option title {i}", payload=f"P{i}") for i in range(5)]
    parts = split(msg("whatsapp", text="word " * 1500, quick_replies=qrs), RECENT, NOW)
    assert len(parts[-1].quick_replies) == POLICIES["whatsapp"].max_quick_replies == 3
    assert all(len(q.title) <= 20 for q in parts[-1].quick_replies)
    assert all(not p.quick_replies for p in parts[:-1])
    assert len(parts[-1].text or "") <= 1024  # interactive body limit
    line = split(msg("line", quick_replies=qrs * 4), RECENT, NOW)
    assert len(line[0].quick_replies) == 13
    with pytest.raises(PolicyViolation, match="quick_reply_payload_too_long"):
        split(msg("telegram", quick_replies=[QuickReply(title="x", payload="é" * 40)]), RECENT, NOW)


def test_media_with_long_caption_goes_first_alone() -> None:
    media = OutboundMedia(type="image", url="https://x.invalid/a.jpg")
    parts = split(msg("whatsapp", text="y " * 700, media=media), RECENT, NOW)
    assert parts[0].media == media and parts[0].text is None
    assert all(p.media is None for p in parts[1:])
    short = split(msg("whatsapp", text="caption", media=media), RECENT, NOW)
    assert len(short) == 1 and short[0].media == media and short[0].text == "caption"


def test_media_only_message_passes_through() -> None:
    media = OutboundMedia(type="image", url="https://x.invalid/a.jpg")
    (part,) = split(msg("line", text="  ", media=media), RECENT, NOW)
    assert part.media == media and part.text is None
