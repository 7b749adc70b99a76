"""What a newcomer hit in the report: an empty period, long periods, gaps, colours, staffing, topics, SLA."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chalicelib.analytics.kpis import DuckDBEngine, compute_kpis
from chalicelib.analytics.report import (
    PALETTE,
    hour_axis,
    line_chart,
    render_report,
    staffing_blocks,
    time_labels,
    topics,
)
from chalicelib.analytics.staffing import staffing_plan


def _empty_kpis(tmp_path: Path, days: int = 30):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    (tmp_path / "empty").mkdir()
    with DuckDBEngine(tmp_path / "empty") as engine:
        return compute_kpis(engine, start, start + timedelta(days=days))


def test_report_of_a_period_without_data_renders(tmp_path: Path) -> None:
    html = render_report(_empty_kpis(tmp_path))
    assert "no data" in html and "No tickets in this period." in html
    assert "<table><thead><tr><th>Day</th>" not in html  # no empty SLA table


def test_line_chart_with_no_positions_says_no_data() -> None:
    assert "no data" in line_chart({}, [], title="empty")
    assert "no data" in line_chart({"a": []}, [], title="empty")


def test_a_month_of_hours_is_labelled_by_date_without_crowding_or_clipping() -> None:
    hours = hour_axis(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert len(hours) == 30 * 24  # every hour, so quiet hours are 0 rather than skipped
    labels = time_labels(hours)
    assert labels[0] == "01 Nov" and labels[24] == "02 Nov" and labels[1] == ""
    svg = line_chart({"app": [1.0] * len(hours)}, labels, title="t")
    printed = re.findall(r'text-anchor="(\w+)" class="tick">([^<]+)</text>', svg)
    dates = [text for _, text in printed if re.fullmatch(r"\d\d \w\w\w", text)]
    assert 2 <= len(dates) <= 8
    assert printed[5][0] == "start"  # the first x label hangs inside the frame (after the 5 y ticks)


def test_every_channel_gets_its_own_colour() -> None:
    channels = ["app", "web", "miniprogram", "wechat", "whatsapp", "messenger", "telegram", "line", "generic"]
    svg = line_chart({c: [1.0, 2.0] for c in channels}, ["a", "b"], title="t")
    colours = re.findall(r'<polyline[^>]+stroke="(#[0-9a-f]{6})"', svg)
    assert len(colours) == len(set(colours)) == len(channels) <= len(PALETTE)


def test_staffing_groups_equal_hours_and_keeps_fractional_contacts() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(7 * 24)]
    arrivals = [0.3 if 9 <= h.hour < 18 else 0.0 for h in hours]
    plan = staffing_plan(hours, arrivals, 240.0)
    blocks = staffing_blocks(plan)
    assert len(blocks) == 7 and all(len(b) == 9 for b in blocks)
    html = render_report(_kpis_stub(), None, plan)
    assert ">0.3<" in html and ">0 contacts<" not in html
    assert html.count("<tr>") - 1 < 20  # 7 rows + headers, not 160


def _kpis_stub():
    from chalicelib.analytics.kpis import KpiReport

    start = datetime(2026, 11, 24, tzinfo=UTC)
    return KpiReport.model_validate({"start": start, "end": start + timedelta(days=7)})


def test_small_talk_and_unknown_are_not_topics() -> None:
    class Row:
        def __init__(self, intent: str) -> None:
            self.intent = intent

    rows = [Row(i) for i in ("unknown", "greeting", "goodbye", "thanks", "refund", "order_status")]
    assert [r.intent for r in topics(rows)] == ["refund", "order_status"]


def test_handle_time_tile_says_what_it_averages(tmp_path: Path) -> None:
    html = render_report(_empty_kpis(tmp_path, 1))
    assert "all 0 resolutions; agent-resolved" in html
