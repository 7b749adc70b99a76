"""The language a customer wrote in, when the text says so: `'zh'`, `'en'` or None.

None for texts that tell nothing ("4", "ok", an emoji, a quick-reply payload), so that a survey
answer does not switch a Chinese conversation to English. Chinese ideographs against Latin words,
one Chinese word weighing about 1.5 characters (the bot's detector uses the same rule).
"""

from __future__ import annotations

import re
import unicodedata

_LATIN_WORD_RE = re.compile(r"[a-z]{2,}")
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
# Words that are the same in every language a customer may write in.
_NEUTRAL = frozenset({"ok", "okay", "hi", "thx", "yes", "no", "ya", "haha", "lol", "csat", "nps"})


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def language_of(text: str | None) -> str | None:
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text).lower()
    cjk = sum(1 for ch in text if _is_cjk(ch))
    words = [w for w in _LATIN_WORD_RE.findall(re.sub(r"[^a-z\s]", " ", text)) if w not in _NEUTRAL]
    if cjk == 0 and not words:
        return None
    return "zh" if cjk / 1.5 >= len(words) else "en"
