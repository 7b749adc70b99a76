"""The HTML report renders its tiles, SVG charts, tables, forecast and staffing without external assets."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

from chalicelib.analytics.forecast import forecast_hourly
from chalicelib.analytics.kpis import DuckDBEngine, compute_kpis
from chalicelib.analytics.report import bar_chart, line_chart, render_report
from chalicelib.analytics.staffing import staffing_plan

from .kpi_fixture import END, START, fixture_events
from .test_forecast_staffing import synthetic


def _kpis(tmp_path: Path):
    import gzip

    from chalicelib.analytics.events import parse_event, to_json

    (tmp_path / "x").mkdir()
    rows = "".join(to_json(parse_event(e)) + "\n" for e in fixture_events())
    (tmp_path / "x" / "a.jsonl.gz").write_bytes(gzip.compress(rows.encode()))
    with DuckDBEngine(tmp_path) as engine:
        return compute_kpis(engine, START, END)


def test_report_renders_charts(tmp_path: Path) -> None:
    kpis = _kpis(tmp_path)
    fc = forecast_hourly(synthetic(3, 1), START - timedelta(weeks=3), 168)
    plan = staffing_plan(fc.timestamps, fc.values, 240.0)
    html = render_report(kpis, fc, plan, title="Weekly <report>")
    (tmp_path / "report.html").write_text(html)
    assert html.startswith("<!DOCTYPE html>") and "Weekly &lt;report&gt;" in html
    assert html.count("<svg") >= 7 and "<polyline" in html and "<rect" in html and "<polygon" in html
    for label in ("Bot containment", "CSAT", "NPS", "SLA breach rate", "First-contact resolution"):
        assert label in html
    assert "refund" in html and "Staffing (Erlang C)" in html and "Hot topics" in html
    assert not re.search(r"<script|https?://(?!www\.w3\.org)", html)
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        ElementTree.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_chart_helpers_handle_empty_and_gaps() -> None:
    assert "no data" in bar_chart([], title="t")
    svg = line_chart({"a": [1.0, None, 3.0]}, ["x", "y", "z"], title="gap")
    assert svg.count("<circle") == 2 and "<polyline" not in svg
