"""``python -m chalicelib.cli bot evaluate`` on tiny hand-made CSVs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from botdata import REPO, TINY_EXAMPLES

from chalicelib.cli import build_parser
from chalicelib.cli.bot import intent_metrics


def _write(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "bot", "evaluate", *args],
        cwd=REPO, capture_output=True, text=True, check=True,
    )


def test_parser_registers_bot_evaluate():
    args = build_parser().parse_args(["bot", "evaluate", "--train", "a.csv", "--test", "b.csv", "--json"])
    assert args.handler and args.json and args.task == "intent"


def test_intent_json(tmp_path):
    train = _write(tmp_path / "train.csv", ["text", "label"], TINY_EXAMPLES)
    test = _write(
        tmp_path / "test.csv", ["text", "label"],
        [("话费还有多少", "check_balance"), ("网断了", "broadband_outage"), ("买流量", "buy_data_package"),
         ("qzxv plmok wert", "oos")],
    )
    faq = _write(tmp_path / "faq.csv", ["intent", "answer_zh", "answer_en"],
                 [("check_balance", "在App首页查看余额。", "See your balance on the app home page.")])
    out = _run("--train", str(train), "--test", str(test), "--answers", str(faq), "--json")
    data = json.loads(out.stdout)
    assert set(data) == {"accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision",
                         "p50_ms", "p99_ms", "artifact_bytes", "train_seconds"}
    assert 0.0 <= data["accuracy"] <= 1.0 and data["artifact_bytes"] > 0
    assert out.stdout.count("\n") == 1


def test_handoff_and_sentiment_json(tmp_path):
    ho = _write(tmp_path / "h.csv", ["text", "expect_handoff"], [("转人工", 1), ("人工智能是什么", 0)])
    data = json.loads(_run("--task", "handoff", "--test", str(ho), "--json").stdout)
    assert data == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    rows = [("你们是骗子", "negative"), ("谢谢，很满意", "positive")]
    se = _write(tmp_path / "s.csv", ["text", "sentiment"], rows)
    data = json.loads(_run("--task", "sentiment", "--test", str(se), "--json").stdout)
    assert set(data) == {"accuracy", "negative_recall"} and data["negative_recall"] == 1.0


def test_metrics_without_oos_rows_are_null():
    m = intent_metrics(["a", "b", "b"], ["a", "b", "oos"])
    assert m["oos_recall"] is None and m["oos_precision"] is None
    assert abs(m["accuracy"] - 2 / 3) < 1e-9 and abs(m["in_scope_accuracy"] - 2 / 3) < 1e-9
    m = intent_metrics(["a", "oos", "oos"], ["a", "oos", "a"])
    assert m["oos_recall"] == 0.5 and m["oos_precision"] == 1.0
