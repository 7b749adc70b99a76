"""The analytics CLI on a local archive: KPIs, an HTML report with charts, and the forecast + staffing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from analytics_flow import write_synthetic_archive

from chalicelib.cli import main

START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday; five weeks of history follow


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    assert write_synthetic_archive(root, START, weeks=5) > 3000
    return root


def test_kpis_json(archive_dir, capsys):
    assert main(["kpis", "--data", str(archive_dir), "--from", "2026-10-05", "--to", "2026-10-11", "--json",
                 "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    conversations = sum(v["conversations"] for v in report["volume_by_channel"])
    assert 500 < conversations < 2000
    assert 0.2 < report["containment"]["escalation_rate"] < 0.45
    assert report["handle_time"]["agent_resolutions"] > 0 and report["csat"]["responses"] > 0


def test_report_renders_with_charts_and_progress(archive_dir, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", "--data", str(archive_dir), "--from", "2026-10-05", "--to", "2026-10-11",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 7 and "<polyline" in html
    assert "Bot containment" in html and "forecast" in html.lower() and "Erlang" in html
    assert "kpis" in captured.err and "done" in captured.err  # progress on stderr, not stdout
    assert "report written to" in captured.out and "conversations" in captured.out


def test_forecast_beats_seasonal_naive_on_held_out_week(archive_dir, capsys):
    assert main(["forecast", "--data", str(archive_dir), "--until", "2026-10-12T00:00:00Z", "--days", "7",
                 "--json", "--no-progress"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert len(plan["forecast"]["values"]) == len(plan["staffing"]) == 168
    ev = plan["evaluation"]
    assert ev["horizon"] == 168 and ev["model"]["mae"] < ev["seasonal_naive"]["mae"]
    assert plan["aht_measured"] and 120 < plan["aht_seconds"] < 600
    peak = max(plan["staffing"], key=lambda r: r["arrivals_per_hour"])
    assert peak["agents"] >= 2 and peak["service_level"] >= 0.8

    assert main(["forecast", "--data", str(archive_dir), "--until", "2026-10-12T00:00:00Z", "--days", "1",
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"seasonal-naive MAE", text) and len(re.findall(r"^\w{3} \d\d-\d\d \d\d:00", text, re.M)) == 24
