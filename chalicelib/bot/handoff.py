"""Human-handoff detection: does the customer ask to talk to a person?

Rule based, for Chinese and English. A message asks for a human when it contains a request
phrase (转人工, 人工客服, 真人, 活人, 找你们领导/经理, 打电话给我/回电, "agent", "real person",
"talk to someone", "representative", ...) that is not negated (不用转人工了, "no need for an
agent") and is not one of the look-alikes that share characters with them: artificial
intelligence (人工智能, AI), labour fees (人工费), cloud seeding (人工降雨), or transfers of money,
credit, data, points or number ownership (转账, 转流量, 携号转网, 呼叫转移, "transfer money").
Look-alikes are removed from the text before the request phrases are searched, so a message that
mentions both ("转账失败，帮我转人工") still triggers.
"""

from __future__ import annotations

import re
import unicodedata

# Phrases that look like a handoff request but are not; blanked out before matching.
_LOOKALIKES_ZH = re.compile(
    r"人工智能|人工智慧|人工费|人工成本|人工降雨|人工增雨|人工湖|人工降|人工合成|人工呼吸|人工授精|人工耳蜗|"
    r"人工关节|人工草坪|人工养殖|人工翻译|人工服务费|"
    r"转账|转帐|转款|转钱|转流量|转话费|转积分|转赠|转让|转户|过户|转网|转出|转入|转移|转到银行|转给|"
    r"携号|呼叫转|来电转|机器人客服的?原理|真人秀|真人cs"
)
_LOOKALIKES_EN = re.compile(
    r"\b(?:artificial intelligence|ai|a\.i\.|chat ?gpt|travel agent|insurance agent|real estate agent|"
    r"agent fee|user agent|secret agent|human resources|labou?r (?:fee|cost|charge)s?|"
    r"transfer (?:money|funds|credit|data|points|balance|ownership|my number|the number)|"
    r"call forwarding|forward(?:ing)? (?:my )?calls?|port(?:ing)? (?:my|the) number)\b"
)

_REQUEST_ZH = re.compile(
    r"转人工|转接人工|人工(?:处理|办理|解决|帮忙|帮我|操作|核实|核查|介入|对接|沟通|回复|受理)|人工(?:吗|么|嘛|呢|吧)|转接客服|人工客服|人工服务|人工坐席|人工座席|人工台|找人工|接人工|人工!*$|^人工|"
    r"真人|活人|真的人|有没有人(?:管|理|在)|没人(?:管|理)|来个人|来个?人工|换个人|换人|找个人|叫个人|"
    r"找(?:你们|你们的)?(?:领导|经理|主管|负责人|上级|老板)|叫(?:你们|你们的)?(?:领导|经理|主管|负责人|上级|老板)|"
    r"(?:领导|经理|主管|负责人|上级)(?:来|出来|跟我|和我|与我)|"
    r"(?:给我|帮我|让人|安排人|找人)(?:打(?:个)?电话|回(?:个)?电话|回电|致电|打过来)|打电话给我|回电话?给我|"
    r"回个?电话|回电|电话联系我|客服电话打给我|"
    r"(?:不想|不要|别)(?:跟|和|同)?(?:机器人?|ai|智能客服|自动回复)|机器人(?:听不懂|没用|解决不了)|"
    r"(?:跟|和|同|找)(?:客服|工作人员|员工|人)(?:说|聊|谈|沟通|讲)|工作人员|客服小姐姐|客服专员|接线员|话务员"
)
_REQUEST_EN = re.compile(
    r"\b(?:agent|human|real person|live person|actual person|a person|representative|rep|operator|"
    r"customer service rep|someone real|real human|supervisor|manager|live chat|live support|"
    r"talk to (?:someone|somebody|a person|anyone)|speak to (?:someone|somebody|a person|anyone)|"
    r"speak with (?:someone|somebody|a person|anyone)|call me(?: back)?|callback|call back|"
    r"phone me|ring me)\b"
)
_NOT_A_REQUEST_EN = re.compile(
    r"\b(?:are you|is this|am i talking to) (?:a |an )?(?:human|bot|robot|real person)\b|"
    r"\b(?:you can |you may |just )?call me (?!back\b|now\b|asap\b|please\b|on\b|at\b|when\b|today\b|"
    r"tomorrow\b|later\b)[a-z]+"
)

_NEGATION_ZH = re.compile(
    r"(?:不用|不需要|无需|不必|别|不要|甭|用不着|没必要|先不|暂时不|不想|不找|没要|没说要|没让|没叫)"
    r"(?:再|帮我|给我|麻烦)?(?:转|找|接|叫|要|打|回)?"
)
# a request phrase followed by a refusal: 人工就不用了, 转人工就算了
_NEGATION_AFTER_ZH = re.compile(r"^.{0,2}(?:就|也|先|暂时)?(?:不用|不需要|算了|免了|没必要)")
_NEGATION_EN = re.compile(
    r"\b(?:no need (?:for|to)|don'?t (?:need|want)|do not (?:need|want)|not (?:necessary|needed)|"
    r"no|never mind|"
    r"without)\b(?:\s+\w+){0,3}\s*$"
)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).lower()).strip()


def _negated_zh(text: str, start: int) -> bool:
    """A negation word right before the match (at most 3 chars apart)."""
    window = text[max(0, start - 6) : start]
    if window.endswith(("不", "没")):  # 不找人工, 没转人工
        return True
    return bool(re.search(_NEGATION_ZH.pattern + r".{0,2}$", window)) and "不是" not in window[-2:]


def _negated_en(text: str, start: int) -> bool:
    window = text[max(0, start - 40) : start]
    return bool(_NEGATION_EN.search(window))


def rule_signal(text: str) -> int:
    """``1``: a request phrase that is not negated; ``-1``: only negated ones (不用转人工了, "no need
    for an agent") or "are you a human?"; ``0``: the rules see nothing either way."""
    t = _normalise(text)
    t = _LOOKALIKES_ZH.sub("　", t)
    t = _LOOKALIKES_EN.sub(" ", t)
    negated = False
    for m in _REQUEST_ZH.finditer(t):
        if not _negated_zh(t, m.start()) and not _NEGATION_AFTER_ZH.search(t[m.end() :]):
            return 1
        negated = True
    if _NOT_A_REQUEST_EN.search(t):
        t = _NOT_A_REQUEST_EN.sub(" ", t)
        negated = True
    for m in _REQUEST_EN.finditer(t):
        if not _negated_en(t, m.start()):
            return 1
        negated = True
    return -1 if negated else 0


def wants_human(text: str) -> bool:
    """True if the rules find a request for a human agent in ``text`` (Chinese or English)."""
    return rule_signal(text) == 1
