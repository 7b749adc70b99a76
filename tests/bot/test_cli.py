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


def test_stratified_folds_spread_every_label():
    from chalicelib.cli.bot import stratified_folds

    labels = ["a"] * 9 + ["b"] * 6
    folds = stratified_folds(labels, 3, seed=1)
    assert sorted(i for f in folds for i in f) == list(range(15))
    assert all(sum(labels[i] == "a" for i in f) == 3 and sum(labels[i] == "b" for i in f) == 2 for f in folds)


def test_cross_validation_json(tmp_path):
    train = _write(tmp_path / "train.csv", ["text", "label"], TINY_EXAMPLES)
    data = json.loads(_run("--train", str(train), "--cv", "3", "--json", "--no-progress").stdout)
    assert set(data) == {"accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision", "folds",
                         "train_seconds"}
    assert data["folds"] == 3 and 0.0 <= data["accuracy"] <= 1.0
    rows = [("转人工", 1), ("找个真人", 1), ("人工智能是什么", 0), ("怎么转账", 0), ("agent please", 1),
            ("are you a robot", 0)]
    ho = _write(tmp_path / "h.csv", ["text", "expect_handoff"], rows)
    data = json.loads(_run("--task", "handoff", "--train", str(ho), "--cv", "2", "--json", "--no-progress").stdout)
    assert set(data) == {"precision", "recall", "f1"}


def test_test_file_and_cv_are_exclusive(tmp_path):
    out = subprocess.run([sys.executable, "-m", "chalicelib.cli", "bot", "evaluate", "--task", "handoff"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2 and "--test FILE" in out.stderr
