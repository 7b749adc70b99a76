"""Redaction of personal data in free text, keyed pseudonymisation of customer ids, and a log formatter.

``redact_text`` replaces e-mail addresses, Chinese resident ID numbers (18-digit with a valid
ISO 7064 MOD 11-2 check character, 15-digit legacy with a valid region and birth date), bank card
numbers (13-19 digits, Luhn-valid), Chinese mobile numbers and international ``+``-prefixed phone
numbers with ``[EMAIL]``, ``[ID]``, ``[CARD]`` and ``[PHONE]``. Long digit runs are only treated as
IDs or cards when their checksum holds, so order numbers, amounts and dates are left alone.
Matching runs on a folded copy of the text (full-width forms such as ``１３８`` and ``＠``, the
ideographic space and every other Unicode decimal digit become their ASCII counterparts, one
character for one) with ASCII-only character classes, so an address typed right after Chinese
characters or a number typed in full-width digits is found; the replacement is made at the same
positions of the original, and text that held no personal data comes back exactly as written.
``pseudonymise`` maps a customer id to a truncated HMAC-SHA256 hex digest. ``RedactingFormatter``
is a Powertools log formatter that redacts every string value of a structured log record.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import PowertoolsLogRecord

PHONE, EMAIL, ID, CARD = "[PHONE]", "[EMAIL]", "[ID]", "[CARD]"

# A digit run must not continue an adjacent digit group ("1234 5678" counts as one run).
_NO_DIGIT_BEFORE = r"(?<![\d+])(?<!\d[ \-])"
_NO_DIGIT_AFTER = r"(?![ \-]?\d)"

# re.ASCII: \w and \d are ASCII only, so a Chinese character before an address is a boundary, not a
# part of its local part (matching runs on the folded text, where every digit is ASCII).
_EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)
_ID18_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])", re.ASCII)
_ID15_RE = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])", re.ASCII)
_CARD_RE = re.compile(_NO_DIGIT_BEFORE + r"\d(?:[ \-]?\d){12,18}" + _NO_DIGIT_AFTER, re.ASCII)
_CN_MOBILE_RE = re.compile(
    r"(?<![\d+])(?<!\d[ \-])(?:(?:\+|00)86[ \-]?)?1[3-9]\d[ \-]?\d{4}[ \-]?\d{4}" + _NO_DIGIT_AFTER, re.ASCII
)
_INTL_PHONE_RE = re.compile(r"(?<![\w+])\+[1-9][\d \-().]{6,22}\d" + _NO_DIGIT_AFTER, re.ASCII)


class _Fold(dict):  # type: ignore[type-arg]
    """str.translate table built on demand: full-width ASCII forms, U+3000 and Unicode digits to ASCII."""

    def __missing__(self, code: int) -> int:
        char = chr(code)
        folded = code
        if 0xFF01 <= code <= 0xFF5E:
            folded = code - 0xFEE0
        elif code == 0x3000:
            folded = 0x20
        elif code in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212):  # dashes and minus typed in numbers
            folded = 0x2D
        else:
            digit = unicodedata.decimal(char, None)
            if digit is not None:
                folded = 0x30 + digit
        self[code] = folded
        return folded


_FOLD = _Fold()


def fold(text: str) -> str:
    """The text with look-alike forms folded to ASCII, one character for one (so positions align)."""
    return text if text.isascii() else text.translate(_FOLD)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits of a resident ID: province-level region codes.
_ID_REGIONS = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def cn_id18_valid(value: str) -> bool:
    """True when ``value`` is an 18-character resident ID with region, birth date and MOD 11-2 check."""
    if len(value) != 18 or not value[:17].isdigit() or int(value[:2]) not in _ID_REGIONS:
        return False
    if not _valid_date(int(value[6:10]), int(value[10:12]), int(value[12:14])):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def cn_id15_valid(value: str) -> bool:
    """True when ``value`` is a legacy 15-digit resident ID (no checksum: region and YYMMDD birth date)."""
    if len(value) != 15 or not value.isdigit() or int(value[:2]) not in _ID_REGIONS:
        return False
    return _valid_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check of a digit string."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_valid(candidate: str) -> bool:
    """Bank card: 13-19 digits after removing spaces/dashes, no leading 0, not one repeated digit, Luhn."""
    digits = re.sub(r"[ \-]", "", candidate)
    return 13 <= len(digits) <= 19 and digits[0] != "0" and len(set(digits)) > 1 and luhn_valid(digits)


def _intl_phone_valid(candidate: str) -> bool:
    return 8 <= sum(ch.isdigit() for ch in candidate) <= 15


def _sub(pattern: re.Pattern[str], token: str, check: Callable[[str], bool] | None = None,
         ) -> Callable[[str, str], tuple[str, str]]:
    """A step over (original, folded): matches are found in the folded text and replaced in both."""

    def apply(original: str, folded: str) -> tuple[str, str]:
        out_original: list[str] = []
        out_folded: list[str] = []
        last = 0
        for match in pattern.finditer(folded):
            if check is not None and not check(match.group(0)):
                continue
            start, end = match.span()
            out_original += (original[last:start], token)
            out_folded += (folded[last:start], token)
            last = end
        if last == 0 and not out_folded:
            return original, folded
        out_original.append(original[last:])
        out_folded.append(folded[last:])
        return "".join(out_original), "".join(out_folded)

    return apply


class Redactor:
    """Applies the built-in PII rules, then any extra ``(regex, token)`` rules, to free text."""

    def __init__(self, extra_patterns: Iterable[tuple[str | re.Pattern[str], str]] = ()) -> None:
        self._steps: list[Callable[[str, str], tuple[str, str]]] = [
            _sub(_EMAIL_RE, EMAIL),
            _sub(_ID18_RE, ID, cn_id18_valid),
            _sub(_CARD_RE, CARD, card_valid),
            _sub(_ID15_RE, ID, cn_id15_valid),
            _sub(_CN_MOBILE_RE, PHONE),
            _sub(_INTL_PHONE_RE, PHONE, _intl_phone_valid),
        ]
        for pattern, token in extra_patterns:
            self._steps.append(_sub(re.compile(pattern) if isinstance(pattern, str) else pattern, token))

    def __call__(self, text: str) -> str:
        folded = fold(text)
        for step in self._steps:
            text, folded = step(text, folded)
        return text

    def redact_value(self, value: object) -> object:
        """Redact every string inside nested dicts/lists/tuples; other values are returned unchanged."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value


DEFAULT_REDACTOR = Redactor()


def redact_text(text: str) -> str:
    """Redact ``text`` with the built-in rules."""
    return DEFAULT_REDACTOR(text)


def pseudonymise(customer_id: str, key: str | bytes, length: int = 32) -> str:
    """Keyed pseudonym of ``customer_id``: HMAC-SHA256 hex digest truncated to ``length`` (16-64) chars."""
    if not key:
        raise ValueError("pseudonymisation key must not be empty")
    if not 16 <= length <= 64:
        raise ValueError("length must be between 16 and 64")
    raw_key = key.encode() if isinstance(key, str) else key
    return hmac.new(raw_key, customer_id.encode(), hashlib.sha256).hexdigest()[:length]


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools JSON formatter that redacts every string value (message, extra keys, exception text)."""

    def __init__(self, *args: Any, redactor: Redactor | None = None, **kwargs: Any) -> None:
        self._redactor = redactor or DEFAULT_REDACTOR
        super().__init__(*args, **kwargs)

    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        redacted = self._redactor.redact_value(log) if isinstance(log, dict) else log
        return super().serialize(log=redacted)  # type: ignore[arg-type]  # a dict stays a dict
