"""What the platform says to customers on its own initiative, per language (zh and en).

One mapping of flat dotted keys, the shape of the message catalog (`chalicelib/i18n`), so the texts
move there as they are. `text(key, language, **params)` falls back to English.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "outreach.customer_name_unknown": "there",
        "outreach.followup.resolution_check": "Is your problem solved?",
        "outreach.followup.solved": "Yes, solved",
        "outreach.followup.not_solved": "No, not yet",
        "outreach.followup.ticket_pending": "We are still waiting for your answer about ticket {ticket_id}. "
                                            "Reply here and we will carry on.",
        "outreach.optout.confirmed": "You will no longer receive marketing messages from us. "
                                     "Service messages about your requests still reach you.",
    },
    "zh": {
        "outreach.customer_name_unknown": "顾客",
        "outreach.followup.resolution_check": "您的问题解决了吗？",
        "outreach.followup.solved": "已解决",
        "outreach.followup.not_solved": "没有解决",
        "outreach.followup.ticket_pending": "关于工单 {ticket_id}，我们还在等您的回复。"
                                            "请直接在这里回复，我们会继续处理。",
        "outreach.optout.confirmed": "您已退订，今后不会再收到我们的营销消息；与您的服务请求相关的消息仍会发送给您。",
    },
}


def text(key: str, language: str, **params: object) -> str:
    """The text of `key` in `language` (English when that language lacks it), with `params` filled in."""
    lang = (language or "en").split("-")[0].split("_")[0].lower()
    template = TEXTS.get(lang, {}).get(key) or TEXTS["en"][key]
    return template.format(**params) if params else template
