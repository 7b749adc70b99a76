"""A tiny knowledge base for the bot tests (four intents, Chinese and English), and helpers."""

from __future__ import annotations

from typing import Any

TINY_KB: dict[str, Any] = {"intents": {
    "track_order": {
        "examples": ["我的订单到哪了", "查一下我的快递", "包裹什么时候到", "where is my order", "track my package",
                     "when will my parcel arrive"],
        "answers": {"zh": "在“我的订单”里可以查看物流。", "en": "You can track it under My orders."},
        "titles": {"zh": "我的订单到哪了？", "en": "Where is my order?"},
        "tags": ["orders"],
    },
    "refund_status": {
        "examples": ["退款什么时候到账", "我的退款到哪了", "钱还没退回来", "when will I get my refund",
                     "where is my refund", "refund not received"],
        "answers": {"zh": "退款会在1-5个工作日内到账。", "en": "Refunds arrive within 1-5 business days."},
        "titles": {"zh": "退款什么时候到账？", "en": "When will I get my refund?"},
        "tags": ["payment"],
    },
    "return_policy": {
        "examples": ["我要退货", "怎么退货", "商品不喜欢可以退吗", "I want to return an item",
                     "how do I return something", "what is your return policy"],
        "answers": {"zh": "签收后7天内可以无理由退货。", "en": "You can return items within 7 days."},
        "tags": ["returns"],
    },
    "store_hours": {
        "examples": ["门店几点开门", "营业时间是什么", "周末营业吗", "what are your opening hours",
                     "when does the store open", "are you open on weekends"],
        "answers": {"zh": "门店每天10:00-22:00营业。", "en": "Our stores are open 10:00-22:00 every day."},
        "tags": ["stores"],
    },
}}


def snapshot(document: dict[str, Any] | None = None, version: int = 1) -> Any:
    from chalicelib.bot.kb import Intent, KnowledgeBaseDocument, Snapshot

    doc = KnowledgeBaseDocument.model_validate(document or TINY_KB)
    return Snapshot(version, [Intent(name=n, kb_version=version, **b.model_dump()) for n, b in doc.intents.items()])
