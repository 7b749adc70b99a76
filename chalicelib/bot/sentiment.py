"""Message sentiment for Chinese and English: negative / neutral / positive, plus an anger flag.

Lexicon and rule based (no model, no numpy). Each matched cue adds a signed weight; a negation
just before a cue flips it (不满意, 不好用, "not happy", "isn't helpful"), intensifiers (太, 非常,
"very", "so") strengthen it. Anger and threats (投诉, 工信部, 消协, 曝光, 媒体, 骗子, 报警, "scam",
"worst", "lawyer", ...) make the message negative and set ``angry``; so do repeated ``!``/``？``
together with a negative cue. ``score`` is in [-1, 1], negative below -0.2 and positive above 0.2.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Sentiment:
    """Sentiment of one message."""

    label: str  # 'negative' | 'neutral' | 'positive'
    score: float  # -1 .. 1
    angry: bool


# Anger / threats: strongly negative and flagged.
_ANGER_ZH = (
    "投诉", "工信部", "消协", "消费者协会", "12315", "曝光", "媒体", "记者", "骗子", "诈骗", "骗钱", "欺骗",
    "霸王条款", "虚假宣传", "坑人", "坑钱",
    "报警", "起诉", "律师", "法院", "维权", "黑心", "垃圾", "流氓", "无耻", "滚", "妈的", "他妈", "tmd", "靠",
    "气死", "火大", "愤怒", "忍无可忍", "太过分", "欺负", "强盗", "抢钱", "吸血", "要个说法", "给个说法",
    "什么破",
    "破服务", "破网", "破玩意", "搞什么", "有病", "坑爹", "恶心", "投诉你们", "退网", "再也不用", "差评",
)
_ANGER_EN = (
    "scam", "scammer", "fraud", "rip off", "ripoff", "rip-off", "worst", "lawyer", "sue you", "sue",
    "lawsuit",
    "court", "police", "report you", "regulator", "complain", "complaint", "furious", "outraged",
    "ridiculous",
    "unacceptable", "disgusting", "pathetic", "useless", "garbage", "rubbish", "wtf", "damn", "hell",
    "thieves",
    "robbery", "never again", "fed up", "sick of",
)

_NEG_ZH = {
    "差": 1.0, "慢": 0.8, "卡顿": 0.8, "很卡": 0.8, "太卡": 1.0, "根本没": 0.8, "根本不": 0.8, "失望": 1.2,
    "不满": 1.2, "生气": 1.2, "烦": 1.0, "讨厌": 1.2, "糟糕": 1.2,
    "乱扣": 1.5, "乱收费": 1.5, "扣钱": 0.6, "多扣": 1.2, "乱": 0.5, "离谱": 1.2, "无语": 1.0, "郁闷": 1.0,
    "崩溃": 1.2, "着急": 0.8, "急死": 1.2, "等了": 0.6, "没人理": 1.2, "没人管": 1.2, "不理": 1.0,
    "敷衍": 1.2,
    "推脱": 1.0, "踢皮球": 1.2, "骚扰": 0.8, "断网": 0.6, "掉线": 0.6, "没信号": 0.6, "不靠谱": 1.2,
    "太贵": 1.0, "贵死": 1.2, "坑": 1.0, "糟心": 1.2, "失败": 0.6, "错误": 0.5, "问题一直": 1.0,
    "还没解决": 1.2,
    "没解决": 1.0, "解决不了": 1.0, "好意思": 0.8, "受不了": 1.2, "难用": 1.0, "麻烦死": 1.2, "折腾": 0.8,
    "倒霉": 1.0, "可恶": 1.2, "后悔": 1.0, "白交": 1.0, "冤枉": 1.0, "不公平": 1.2, "退钱": 0.8, "赔偿": 0.8,
    "怎么回事": 0.6, "到底": 0.4, "凭什么": 1.2, "为什么又": 0.8, "又断": 1.0, "又扣": 1.2, "天天": 0.3,
}
_POS_ZH = {
    "好": 0.5, "很好": 1.0, "不错": 1.0, "满意": 1.2, "谢谢": 0.8, "感谢": 1.0, "多谢": 1.0, "辛苦": 0.8,
    "赞": 1.2, "棒": 1.2, "给力": 1.2, "厉害": 1.0, "专业": 0.8, "耐心": 1.0, "热情": 1.0, "周到": 1.0,
    "贴心": 1.2, "及时": 0.8, "快": 0.4, "方便": 0.8, "喜欢": 1.0, "开心": 1.0, "高兴": 1.0, "优秀": 1.2,
    "完美": 1.2, "点赞": 1.2, "好评": 1.2, "五星": 1.2, "靠谱": 1.0, "稳定": 0.6, "流畅": 0.8, "划算": 1.0,
    "实惠": 1.0, "省心": 1.0, "解决了": 0.8, "搞定": 0.8, "顺利": 0.8, "太好了": 1.2, "真好": 1.0, "牛": 1.0,
    "好用": 1.0, "惊喜": 1.0, "真香": 1.2, "服务好": 1.2, "态度好": 1.2, "效率高": 1.2, "给你们点": 0.6,
}
_NEG_EN = {
    "bad": 1.0, "terrible": 1.4, "awful": 1.4, "horrible": 1.4, "poor": 1.0, "slow": 0.8, "angry": 1.2,
    "annoyed": 1.0, "annoying": 1.0, "disappointed": 1.2, "disappointing": 1.2, "unhappy": 1.2, "upset": 1.0,
    "frustrated": 1.2, "frustrating": 1.2, "hate": 1.2, "overcharged": 1.4, "waiting": 0.4, "still not": 0.8,
    "broken": 0.8, "problem": 0.4, "issue": 0.3, "wrong": 0.6, "fail": 0.6, "failed": 0.6, "expensive": 0.8,
    "nobody": 0.6, "no one": 0.6, "again": 0.3, "mess": 1.0, "joke": 0.6, "sucks": 1.4, "crap": 1.4,
}
_POS_EN = {
    "good": 0.8, "great": 1.2, "excellent": 1.4, "amazing": 1.4, "awesome": 1.4, "perfect": 1.2, "nice": 0.8,
    "thanks": 0.8, "thank you": 1.0, "thank": 0.8, "appreciate": 1.0, "appreciated": 1.0, "helpful": 1.0,
    "happy": 1.0, "love": 1.2, "fast": 0.6, "quick": 0.6, "quickly": 0.6, "fantastic": 1.4, "wonderful": 1.4,
    "satisfied": 1.2, "pleased": 1.0, "well done": 1.2, "brilliant": 1.4, "solved": 0.8, "fixed": 0.6,
    "works": 0.4, "friendly": 1.0, "patient": 1.0, "recommend": 1.0, "best": 1.0, "smooth": 0.8,
}

_NEGATORS_ZH = (
    "不", "没", "没有", "别", "毫不", "并不", "一点也不", "一点都不", "不太", "不怎么", "不算", "非",
)
_NEGATORS_EN = (
    "not", "no", "never", "isn't", "wasn't", "aren't", "don't", "doesn't", "didn't", "hardly", "n't",
)
_INTENS_ZH = ("太", "非常", "特别", "超级", "超", "真", "真的", "好", "极", "巨", "十分", "相当", "最")
_INTENS_EN = ("very", "so", "really", "extremely", "super", "totally", "absolutely", "too", "most")

# Fixed phrases that contain a negator but are not negations of the cue after it.
_SHIELD_ZH = re.compile(r"不错|没问题|不客气|好不好|行不行|能不能|是不是|有没有|要不要|不得不|差不多")


_NEUTRAL_HAO = re.compile(
    r"好的|好吧|好滴|好嘞|好了|说好|约好|好不好|好像|好多|好几|只好|好久|还好|最好|好让"
)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).lower()).strip()


def _scan_zh(text: str, lexicon: dict[str, float], sign: float) -> tuple[float, list[tuple[int, int]]]:
    """Sum of signed cue weights in Chinese text; longest cue wins at each position."""
    total, spans = 0.0, []
    cues = sorted(lexicon, key=len, reverse=True)
    taken = [False] * len(text)
    for cue in cues:
        for m in re.finditer(re.escape(cue), text):
            s, e = m.span()
            if any(taken[s:e]):
                continue
            for k in range(s, e):
                taken[k] = True
            before = text[max(0, s - 4) : s]
            weight = lexicon[cue]
            if any(before.endswith(x) for x in _INTENS_ZH):
                weight *= 1.4
            negated = any(neg in before[-3:] for neg in _NEGATORS_ZH) and not _SHIELD_ZH.search(
                text[max(0, s - 2) : e + 1]
            )
            total += -sign * weight * 0.8 if negated else sign * weight
            spans.append((s, e))
    return total, spans


def _scan_en(words: list[str], text: str, lexicon: dict[str, float], sign: float) -> float:
    total = 0.0
    for cue, weight in lexicon.items():
        for m in re.finditer(r"\b" + re.escape(cue) + r"\b", text):
            before = text[max(0, m.start() - 30) : m.start()].split()[-3:]
            w = weight * (1.4 if before and before[-1] in _INTENS_EN else 1.0)
            negated = any(b in _NEGATORS_EN or b.endswith("n't") for b in before)
            total += -sign * w * 0.8 if negated else sign * w
    return total


def analyse(text: str) -> Sentiment:
    """Sentiment of ``text`` (Chinese, English or mixed)."""
    t = _normalise(text)
    angry_hits = sum(1 for cue in _ANGER_ZH if cue in t)
    angry_hits += sum(1 for cue in _ANGER_EN if re.search(r"\b" + re.escape(cue) + r"\b", t))
    # "不投诉了" / "won't complain": a negated threat is not anger
    negated_zh = re.search(r"(?:不|没|别|不会|不想)(?:去|再)?投诉", t)
    if negated_zh or re.search(r"\b(?:won'?t|not|no need to) complain", t):
        angry_hits = max(0, angry_hits - 1)
    raw = 0.0
    neg_zh, _ = _scan_zh(t, _NEG_ZH, -1.0)
    # acknowledgements and set phrases where 好 carries no praise ("好的", "说好的", "好不好")
    pos_zh, _ = _scan_zh(_NEUTRAL_HAO.sub("  ", t), _POS_ZH, 1.0)
    words = re.findall(r"[a-z']+", t)
    raw += neg_zh + pos_zh
    raw += _scan_en(words, t, _NEG_EN, -1.0) + _scan_en(words, t, _POS_EN, 1.0)
    exclaim = len(re.findall(r"[!?]{2,}|！！|？？", text)) + len(re.findall(r"[!?]", t)) // 3
    if raw < 0 and exclaim:
        raw -= 0.5
    raw -= 2.0 * angry_hits
    score = math.tanh(raw / 2.0)
    angry = angry_hits > 0 or (raw < -2.5 and exclaim > 0)
    if angry:
        score = min(score, -0.5)
    return Sentiment(label=label_of(score), score=round(score, 4), angry=angry)


def label_of(score: float) -> str:
    """The label of a score in [-1, 1]: negative below -0.2, positive above 0.2."""
    return "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"
