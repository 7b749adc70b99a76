"""Language detection for the two supported languages, Chinese (``zh``) and English (``en``).

Counts Chinese ideographs against Latin words; code-switched messages ("我的data快用完了") go to
the dominant language, weighting one Chinese word as about 1.5 characters. Text with neither
(digits, emoji) defaults to ``zh`` only if it contains CJK, else ``en``.
"""

from __future__ import annotations

import re
import unicodedata

from .normalize import CJK_RE

_LATIN_WORD_RE = re.compile(r"[a-z]{2,}|\b[a-z]\b")


def detect_language(text: str) -> str:
    """Return ``'zh'`` or ``'en'`` for ``text`` (dominant language for mixed text)."""
    text = unicodedata.normalize("NFKC", text).lower()
    cjk = len(CJK_RE.findall(text))
    latin = len(_LATIN_WORD_RE.findall(re.sub(r"[^a-z\s]", " ", text)))
    if cjk == 0:
        return "en"
    return "zh" if cjk / 1.5 >= latin else "en"
