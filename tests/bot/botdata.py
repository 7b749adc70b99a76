"""Shared data for the bot tests: repository root on sys.path, dataset paths, a tiny example set."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
TELECOM = DATASETS / "telecom_faq_zh_en"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


TINY_EXAMPLES = [
    ("查一下我的话费余额", "check_balance"),
    ("我还剩多少话费", "check_balance"),
    ("帐户里还有多少钱", "check_balance"),
    ("how much balance do I have left", "check_balance"),
    ("check my balance", "check_balance"),
    ("宽带断网了", "broadband_outage"),
    ("家里网络连不上", "broadband_outage"),
    ("宽带好慢，老掉线", "broadband_outage"),
    ("my broadband is down", "broadband_outage"),
    ("internet connection keeps dropping", "broadband_outage"),
    ("我想办个流量包", "buy_data_package"),
    ("流量不够用了，加一个流量包", "buy_data_package"),
    ("订购加油包", "buy_data_package"),
    ("I want to buy a data pack", "buy_data_package"),
    ("add more mobile data to my plan", "buy_data_package"),
]
