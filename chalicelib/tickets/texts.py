"""Customer-facing texts of the ticket loop, per language (issue 16).

One mapping, so that the texts move into the message catalog (`chalicelib/i18n/`) in one step.
`text(key, language, **params)` falls back to English for a language it does not have.
"""

from __future__ import annotations

import re

TEXTS: dict[str, dict[str, str]] = {
    "ticket_created": {
        "en": "We have opened ticket {ref} for you: {subject}. We will keep you posted here.",
        "zh": "我们已为您创建工单 {ref}：{subject}。处理进展会在这里通知您。",
    },
    "ticket_open": {
        "en": "Ticket {ref} ({subject}) is being worked on.",
        "zh": "工单 {ref}（{subject}）正在处理中。",
    },
    "ticket_pending": {
        "en": "Ticket {ref} ({subject}) is waiting for your reply.",
        "zh": "工单 {ref}（{subject}）正在等待您的回复。",
    },
    "ticket_comment": {
        "en": "Update on ticket {ref} ({subject}): {text}",
        "zh": "工单 {ref}（{subject}）有新回复：{text}",
    },
    "ticket_solved": {
        "en": "We believe ticket {ref} ({subject}) is solved. Is your problem solved? Reply \"solved\" or "
              "\"not solved\".",
        "zh": "我们认为工单 {ref}（{subject}）已经解决。您的问题解决了吗？请回复“已解决”或“没有解决”。",
    },
    "ticket_answer_solved": {"en": "Solved", "zh": "已解决"},
    "ticket_answer_not_solved": {"en": "Not solved", "zh": "没有解决"},
    "ticket_confirmed": {
        "en": "Thank you for confirming! Ticket {ref} is closed.",
        "zh": "感谢您的确认！工单 {ref} 已关闭。",
    },
    "ticket_reopened_by_customer": {
        "en": "Sorry to hear that. Ticket {ref} is open again and we will follow up.",
        "zh": "很抱歉！工单 {ref} 已重新打开，我们会尽快跟进。",
    },
    "ticket_reopened": {
        "en": "Ticket {ref} ({subject}) is open again.",
        "zh": "工单 {ref}（{subject}）已重新打开。",
    },
    "ticket_closed": {
        "en": "Ticket {ref} ({subject}) is closed.",
        "zh": "工单 {ref}（{subject}）已关闭。",
    },
}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def text(key: str, language: str, **params: str) -> str:
    by_language = TEXTS[key]
    return by_language.get(language.split("-")[0].lower(), by_language["en"]).format(**params)


def language_of(message_text: str | None) -> str:
    """`zh` for a text with Chinese characters, else `en` (the two languages the platform speaks)."""
    return "zh" if message_text and _HAN.search(message_text) else "en"
