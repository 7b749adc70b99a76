"""A sample knowledge base for a fictional online shop (orders, shipping, returns, refunds, payment,
account, stores, coupons; 19 intents with Chinese and English examples, answers and quick-reply titles).
`order_status`, `logistics`, `refund_status` and `my_orders` (action `orders`) are bound to actions
that call the local shop API (`local/shop_api.py`, `{SHOP_API_URL}` and `SHOP_API_SECRET`).

The local stack imports it at start-up (`local/bot_seed.py`); it also shows the JSON import format
(`python -m chalicelib.cli kb import chalicelib/bot/sample_kb/shop.json ...`).
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_KB_PATH = Path(__file__).resolve().parent / "shop.json"
