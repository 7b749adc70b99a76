"""Built-in small talk: greeting, thanks and goodbye in Chinese and English.

A knowledge base rarely lists "hello" or "thanks" as FAQ intents, yet every chat starts and ends
with them. :func:`merge_examples` adds these built-in examples at training time for each small-talk
intent the knowledge base does not define itself (if it defines ``greeting``, its own examples win),
and the message catalog (``bot.smalltalk.<intent>`` in ``chalicelib/i18n``) holds the canned answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

GREETING = "greeting"
THANKS = "thanks"
GOODBYE = "goodbye"
INTENTS = (GREETING, THANKS, GOODBYE)

EXAMPLES: dict[str, tuple[str, ...]] = {
    GREETING: (
        "你好", "您好", "你好啊", "嗨", "哈喽", "在吗", "在不在", "有人吗", "早上好", "下午好", "晚上好",
        "你好，我想咨询一下", "您好，请问在吗", "客服你好", "哈喽哈喽",
        "hi", "hello", "hey", "hi there", "hello, anyone there?", "good morning", "good afternoon",
        "good evening", "hey, are you there?", "hello, I have a question", "hiya",
    ),
    THANKS: (
        "谢谢", "谢谢你", "多谢", "非常感谢", "感谢", "谢啦", "太感谢了", "辛苦了", "好的谢谢",
        "谢谢你的帮助", "麻烦你了，谢谢", "明白了，谢谢", "解决了，感谢",
        "thanks", "thank you", "thanks a lot", "thank you so much", "many thanks", "cheers",
        "thanks for your help", "great, thanks", "ok thank you", "much appreciated", "thx",
    ),
    GOODBYE: (
        "再见", "拜拜", "先这样吧", "没事了，再见", "好的，再见", "下次再聊", "我先走了", "回头见",
        "没有其他问题了", "就这些了，拜拜", "晚安", "好的拜拜",
        "bye", "goodbye", "bye bye", "see you", "see you later", "that's all, bye", "have a nice day",
        "talk to you later", "nothing else, goodbye", "good night", "that's everything, thanks bye",
    ),
}

def merge_examples(examples: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``examples`` plus the built-in small talk for small-talk intents the examples lack."""
    merged = list(examples)
    defined = {intent for _, intent in merged}
    for intent in INTENTS:
        if intent not in defined:
            merged.extend((text, intent) for text in EXAMPLES[intent])
    return merged


def is_smalltalk(intent: str | None) -> bool:
    """True if ``intent`` is one of the built-in small-talk intents."""
    return intent in INTENTS
