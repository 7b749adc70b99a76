"""Slot values found in what the customer wrote: order number, phone, e-mail, date, amount.

Each extractor returns a normalised value (order numbers upper-cased, phones without spaces or
dashes, dates as ``YYYY-MM-DD``, amounts as a decimal string) or None. E-mail addresses and phone
numbers are found first and masked, so a phone number is never taken for an order number. The order
number pattern is the company's (``ActionSpec.order_number_pattern`` or ``ACTION_ORDER_NUMBER_PATTERN``);
the default accepts ``AB123456``/``AB-1234`` style and 6-20 digit numbers.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from chalicelib.bot.action_spec import SlotName

DEFAULT_ORDER_NUMBER_PATTERN = r"[A-Z]{1,4}-?\d{4,20}|\d{6,20}"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
PHONE = re.compile(r"(?<![\dA-Za-z])(?:\+\d{1,3}[\s-]?)?(?:1[3-9]\d{9}|\d{3,4}[\s-]\d{3,4}[\s-]\d{3,4})(?![\dA-Za-z])")
ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
ZH_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
RELATIVE_DAYS = {"今天": 0, "today": 0, "昨天": 1, "yesterday": 1, "前天": 2}
AMOUNT = re.compile(
    r"(?:[¥￥$]|RMB|CNY|USD)\s?(\d{1,9}(?:\.\d{1,2})?)"
    r"|(\d{1,9}(?:\.\d{1,2})?)\s?(?:元|块|yuan|RMB|CNY|dollars?|USD)",
    re.IGNORECASE)
CANCEL_PHRASES = ("算了", "算了吧", "不用了", "不要了", "不查了", "不用查了", "取消吧", "never mind", "nevermind",
                  "forget it", "forget about it", "cancel", "cancel that", "stop", "no thanks", "no thank you")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def order_number_regex(pattern: str | None) -> re.Pattern[str]:
    """The company's pattern, matched as a whole token (not inside a longer run of letters or digits)."""
    body = pattern or DEFAULT_ORDER_NUMBER_PATTERN
    return re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])", re.IGNORECASE)


def _masked(text: str) -> str:
    text = EMAIL.sub(" ", text)
    return PHONE.sub(" ", text)


def find(slot: SlotName, text: str, *, order_pattern: re.Pattern[str], today: date) -> str | None:
    """The value of ``slot`` in ``text``, normalised, or None."""
    text = unicodedata.normalize("NFKC", text)
    if slot == "email":
        match = EMAIL.search(text)
        return match.group(0).lower() if match else None
    if slot == "phone":
        match = PHONE.search(EMAIL.sub(" ", text))
        return re.sub(r"[\s-]", "", match.group(0)) if match else None
    if slot == "order_number":
        match = order_pattern.search(_masked(text))
        return match.group(0).upper() if match else None
    if slot == "date":
        return _date(text, today)
    match = AMOUNT.search(_masked(text))
    if match is None:
        return None
    return match.group(1) or match.group(2)


def _date(text: str, today: date) -> str | None:
    for regex in (ISO_DATE, ZH_DATE):
        match = regex.search(text)
        if match:
            year = int(match.group(1)) if match.group(1) else today.year
            try:
                return date(year, int(match.group(2)), int(match.group(3))).isoformat()
            except ValueError:
                return None
    lowered = text.lower()
    for word, days in RELATIVE_DAYS.items():
        if word in lowered:
            return (today - timedelta(days=days)).isoformat()
    return None


def find_all(slots: Iterable[SlotName], texts: Iterable[str], *, order_pattern: re.Pattern[str],
             today: date) -> dict[str, str]:
    """The first value of each slot found in ``texts`` (most relevant text first)."""
    wanted = list(slots)
    found: dict[str, str] = {}
    for text in texts:
        for slot in wanted:
            if slot not in found and (value := find(slot, text, order_pattern=order_pattern, today=today)):
                found[slot] = value
        if len(found) == len(wanted):
            break
    return found


def is_cancel(text: str) -> bool:
    """"算了" / "never mind": the whole message is a cancel phrase (punctuation and case aside)."""
    normalised = _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
    compact = normalised.replace(" ", "")
    return any(normalised == p or compact == p.replace(" ", "") for p in CANCEL_PHRASES)
