"""Text normalisation shared by training and prediction.

``normalize`` folds a raw chat message into a canonical form: Unicode NFKC (which also maps
full-width ASCII to half-width), lower-case, masked digits collapsed to ``0``, punctuation, emoji
and other symbols turned into spaces, and spaces inserted between CJK and Latin runs so that the
tokenizer sees ``我的 data 快用完了``. ``clean_for_embedding`` is the gentler form fed to the
sentence encoder, which copes with case and punctuation itself.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE_RE = re.compile(r"\s+")
_DIGITS_RE = re.compile(r"\d+")
_CJK_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FFFF),
)


# One character class for the ranges: a regex test is several times faster than comparing ranges in
# Python, which mattered once long messages were judged character by character.
CJK_RE = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES) + "]")


def is_cjk(ch: str) -> bool:
    """True for a Chinese ideograph (CJK Unified / Extension / Compatibility blocks)."""
    return CJK_RE.match(ch) is not None


def clean_for_embedding(text: str) -> str:
    """NFKC and whitespace collapsing only: the input given to the sentence encoder."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def normalize(text: str) -> str:
    """Canonical lower-case form with punctuation/symbols removed and CJK/Latin runs separated."""
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    prev = ""  # "c" CJK, "l" other word char, "" space
    for ch in text:
        if is_cjk(ch):
            kind = "c"
        elif ch.isalnum() or ch in "'_":
            kind = "l"
        else:
            cat = unicodedata.category(ch)
            # keep combining marks attached to their letter, everything else separates words
            if cat.startswith("M") and prev:
                out.append(ch)
                continue
            out.append(" ")
            prev = ""
            continue
        if prev and kind != prev:
            out.append(" ")
        out.append(ch)
        prev = kind
    joined = _DIGITS_RE.sub("0", "".join(out).replace("'", ""))
    return _SPACE_RE.sub(" ", joined).strip()
