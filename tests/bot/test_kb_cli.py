"""``bot train`` (offline artifact from a KB JSON or CSV files) and the ``kb`` command group's parser."""

from __future__ import annotations

import json

from kbdata import TINY_KB

from chalicelib.cli import build_parser, main


def test_bot_train_from_kb_json_writes_a_loadable_artifact_with_answers(tmp_path, capsys):
    kb = tmp_path / "kb.json"
    kb.write_text(json.dumps(TINY_KB, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "model.bin"

    assert main(["bot", "train", "--kb", str(kb), "--out", str(out), "--no-progress"]) == 0

    from chalicelib.bot.nlu import NluModel

    model = NluModel.from_bytes(out.read_bytes())
    assert model.predict("where is my refund").intent == "refund_status"
    assert model.meta["kb"]["intents"]["store_hours"]["answers"]["zh"] == "门店每天10:00-22:00营业。"
    assert "4 intents, 36 training texts" in capsys.readouterr().out  # 24 questions + answers and titles


def test_bot_train_from_csv_reports_a_missing_answer(tmp_path, capsys):
    examples = tmp_path / "train.csv"
    examples.write_text("text,label\nwhere is my order,track_order\n", encoding="utf-8")

    assert main(["bot", "train", "--examples", str(examples), "--out", str(tmp_path / "m.bin")]) == 2
    assert "answer" in capsys.readouterr().err


def test_kb_commands_are_registered():
    parser = build_parser()
    imp = parser.parse_args(["kb", "import", "faq.csv", "--answers", "a.csv", "--api", "http://x", "--token", "t"])
    exp = parser.parse_args(["kb", "export", "--format", "examples_csv", "--token", "t"])
    assert imp.handler.__name__ == "run_import" and imp.answers.name == "a.csv"
    assert exp.handler.__name__ == "run_export" and exp.format == "examples_csv"
