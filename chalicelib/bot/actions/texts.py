"""What the bot says around actions, per language (keys as in the message catalog, ``chalicelib/i18n``).

``text(key, language, **params)`` falls back to English for a language without the text.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "action.ask_slot.order_number": "请告诉我您的订单号，我帮您查询。",
        "action.ask_slot.phone": "请告诉我您下单时使用的手机号。",
        "action.ask_slot.email": "请告诉我您的邮箱地址。",
        "action.ask_slot.date": "请告诉我日期，例如 2026-01-31。",
        "action.ask_slot.amount": "请告诉我金额，例如 99 元。",
        "action.ask_again.order_number": "抱歉，我没有看到订单号。请直接发送订单号，例如 {example}。",
        "action.ask_again.phone": "抱歉，我没有看到手机号，请再发送一次。",
        "action.ask_again.email": "抱歉，我没有看到邮箱地址，请再发送一次。",
        "action.ask_again.date": "抱歉，我没有看懂日期，请按 2026-01-31 的格式发送。",
        "action.ask_again.amount": "抱歉，我没有看到金额，请按“99 元”的格式发送。",
        "action.slot_label.order_number": "订单号",
        "action.slot_label.phone": "手机号",
        "action.slot_label.email": "邮箱地址",
        "action.slot_label.date": "日期",
        "action.slot_label.amount": "金额",
        "action.offer_person": "抱歉，我还是没能拿到{slot}。需要为您转接人工客服吗？回复“转人工”即可。",
        "action.cancelled": "好的，已为您取消。还有其他可以帮您的吗？",
        "action.failed": "抱歉，暂时查询不到相关信息，请稍后再试。如需人工服务，请回复“转人工”。",
        "action.not_found": "抱歉，没有查到与您账号关联的相关记录，请核对后再试。如需人工服务，请回复“转人工”。",
        "action.offer_person_button": "转人工",
    },
    "en": {
        "action.ask_slot.order_number": "Please tell me your order number and I'll look it up.",
        "action.ask_slot.phone": "Please tell me the phone number you ordered with.",
        "action.ask_slot.email": "Please tell me your e-mail address.",
        "action.ask_slot.date": "Please tell me the date, for example 2026-01-31.",
        "action.ask_slot.amount": "Please tell me the amount, for example 99 yuan.",
        "action.ask_again.order_number": "Sorry, I couldn't see an order number. Please send just the number, "
                                         "for example {example}.",
        "action.ask_again.phone": "Sorry, I couldn't see a phone number. Could you send it again?",
        "action.ask_again.email": "Sorry, I couldn't see an e-mail address. Could you send it again?",
        "action.ask_again.date": "Sorry, I couldn't read the date. Please send it like 2026-01-31.",
        "action.ask_again.amount": "Sorry, I couldn't see an amount. Please send it like \"99 yuan\".",
        "action.slot_label.order_number": "your order number",
        "action.slot_label.phone": "your phone number",
        "action.slot_label.email": "your e-mail address",
        "action.slot_label.date": "the date",
        "action.slot_label.amount": "the amount",
        "action.offer_person": "Sorry, I still don't have {slot}. Would you like to talk to a person? "
                               "Just reply \"Talk to a person\".",
        "action.cancelled": "OK, cancelled. Is there anything else I can help with?",
        "action.failed": "Sorry, I can't look that up right now. Please try again later, or reply "
                         "\"Talk to a person\" to reach our team.",
        "action.not_found": "Sorry, I couldn't find that for your account. Please check it and try again, or reply "
                            "\"Talk to a person\" to reach our team.",
        "action.offer_person_button": "Talk to a person",
    },
}


def text(key: str, language: str, **params: str) -> str:
    table = TEXTS.get(language) or TEXTS["en"]
    template = table.get(key) or TEXTS["en"][key]
    return template.format(**params) if params else template
