"""Self-contained HTML report of the KPIs: tiles, inline SVG charts and tables (no JS, CDN or matplotlib).

``render_report(kpis, forecast=None, staffing=None)`` returns one HTML document with KPI tiles,
hourly volume by channel, daily bot containment and CSAT trends, top intents, escalation reasons,
CSAT distribution, SLA breaches, hot topics, and (optionally) the 7-day forecast with its interval
and the Erlang C staffing table. All text is HTML-escaped; charts are plain SVG elements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from html import escape
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .forecast import Forecast
    from .kpis import KpiReport
    from .staffing import StaffingRow

# Ten distinguishable colours: every channel of the platform (nine) gets its own.
PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#db2777", "#4b5563",
           "#65a30d"]
# Not topics a desk acts on: small talk and the "no intent" bucket are left out of top intents and hot topics.
NOT_TOPICS = frozenset({"unknown", "none", "", "greeting", "thanks", "goodbye", "smalltalk", "oos", "fallback"})
MAX_X_LABELS = 8
_Intentful = TypeVar("_Intentful", bound=Any)
_W, _H, _PAD_L, _PAD_R, _PAD_T, _PAD_B = 720, 240, 48, 12, 14, 36


def _fmt(value: float | None, kind: str = "num") -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "sec":
        return f"{value / 60:.1f} min" if value >= 120 else f"{value:.0f} s"
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{value:,.0f}"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if v <= step:
            return float(step)
    return float(v * 1.1)


def line_chart(
    series: dict[str, Sequence[float | None]],
    labels: Sequence[str],
    *,
    title: str,
    y_max: float | None = None,
    y_fmt: str = "num",
    band: tuple[Sequence[float], Sequence[float]] | None = None,
) -> str:
    """SVG line chart; ``labels`` name the x positions (a few are printed), None values break lines.

    A label of "" is never printed (callers blank the labels that would crowd the axis); with no
    positions at all the chart says "no data" instead of drawing an empty frame.
    """
    n = max(len(labels), 1)
    values = [v for s in series.values() for v in s if v is not None]
    if band:
        values += list(band[1])
    top = y_max if y_max is not None else _nice_max(max(values, default=0.0))
    plot_w, plot_h = _W - _PAD_L - _PAD_R, _H - _PAD_T - _PAD_B

    def xy(i: int, v: float) -> tuple[float, float]:
        x = _PAD_L + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, _PAD_T + plot_h * (1 - min(v, top) / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):
        y = _PAD_T + plot_h * k / 4
        tick = top * (1 - k / 4)
        parts.append(f'<line x1="{_PAD_L}" y1="{y:.1f}" x2="{_W - _PAD_R}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{_PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(_fmt(tick, y_fmt))}</text>"
        )
    printed = [i for i, label in enumerate(labels) if label]
    step = max(1, -(-len(printed) // MAX_X_LABELS))
    for i in printed[::step]:
        x, _ = xy(i, 0)
        # the first and last labels hang inwards, so they are never clipped at the frame's edges
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{_H - 14}" text-anchor="{anchor}" class="tick">{escape(labels[i])}</text>'
        )
    if not labels or not values:
        parts.append(f'<text x="{_W / 2:.0f}" y="{_H / 2:.0f}" text-anchor="middle" class="label">no data</text>')
    if band:
        upper = [xy(i, v) for i, v in enumerate(band[1])]
        lower = [xy(i, v) for i, v in enumerate(band[0])][::-1]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower)
        parts.append(f'<polygon points="{pts}" fill="#bfdbfe" opacity="0.6"/>')
    for idx, (name, vals) in enumerate(series.items()):
        color = PALETTE[idx % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(vals):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = xy(i, v)
            segment.append(f"{x:.1f},{y:.1f}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
            else:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" '
                    f'stroke-width="2"><title>{escape(name)}</title></polyline>'
                )
    legend_x = _PAD_L
    for idx, name in enumerate(series):
        color = PALETTE[idx % len(PALETTE)]
        parts.append(
            f'<rect x="{legend_x}" y="{_H - 10}" width="10" height="10" fill="{color}"/>'
            f'<text x="{legend_x + 14}" y="{_H - 1}" class="tick">{escape(name)}</text>'
        )
        legend_x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, value_fmt: str = "num") -> str:
    """Horizontal SVG bar chart."""
    row_h, label_w = 24, 170
    height = max(1, len(items)) * row_h + 10
    top = max((v for _, v in items), default=0.0) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        width = (_W - label_w - 80) * value / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">'
            f"{escape(label[:28])}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(_fmt(value, value_fmt))}</title></rect>'
        )
        parts.append(
            f'<text x="{label_w + width + 6:.1f}" y="{y + 16}" class="label">'
            f"{escape(_fmt(value, value_fmt))}</text>"
        )
    if not items:
        parts.append('<text x="10" y="20" class="label">no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def _tile(label: str, value: str, note: str = "") -> str:
    return (
        f'<div class="tile"><div class="tl">{escape(label)}</div><div class="tv">{escape(value)}</div>'
        f'<div class="tn">{escape(note)}</div></div>'
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{note_html}{body}</section>"


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:980px;
color:#111827}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb}
.sub,.note{color:#6b7280;font-size:13px;margin:4px 0}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin-top:14px}
.tile{border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px;background:#f9fafb}
.tl{font-size:12px;color:#6b7280}.tv{font-size:22px;font-weight:600;margin-top:2px}
.tn{font-size:11px;color:#9ca3af}
.chart{width:100%;height:auto}.tick{font-size:10px;fill:#6b7280}.label{font-size:12px;fill:#111827}
table{border-collapse:collapse;font-size:12px;width:100%}
th,td{border-bottom:1px solid #f3f4f6;padding:4px 6px;
text-align:right}th:first-child,td:first-child{text-align:left}th{background:#f9fafb}
"""


def render_report(
    kpis: KpiReport,
    forecast: Forecast | None = None,
    staffing: Sequence[StaffingRow] | None = None,
    *,
    title: str = "Customer service report",
    generated_at: datetime | None = None,
) -> str:
    """Render the whole report as one HTML string."""
    k = kpis
    period = f"{k.start:%Y-%m-%d %H:%M} – {k.end:%Y-%m-%d %H:%M} UTC"
    conversations = sum(v.conversations for v in k.volume_by_channel)
    tiles = "".join(
        [
            _tile(
                "Conversations",
                _fmt(conversations),
                f"{sum(v.messages_in for v in k.volume_by_channel):,} messages in",
            ),
            _tile(
                "Bot containment",
                _fmt(k.containment.containment_rate, "pct"),
                f"{k.containment.contained} of {k.containment.bot_handled} bot-handled",
            ),
            _tile(
                "Escalation rate",
                _fmt(k.containment.escalation_rate, "pct"),
                f"{k.containment.escalated} handoffs",
            ),
            _tile("First response (bot)", _fmt(k.first_response.avg_bot_first_response_seconds, "sec")),
            _tile(
                "First response (human)",
                _fmt(k.first_response.avg_human_first_response_seconds, "sec"),
                "after handoff",
            ),
            _tile(
                "Avg handle time",
                _fmt(k.handle_time.avg_handle_seconds, "sec"),
                f"all {k.handle_time.resolutions} resolutions; agent-resolved "
                f"{_fmt(k.handle_time.avg_agent_handle_seconds, 'sec')}",
            ),
            _tile("Resolution time", _fmt(k.resolution_time.avg_resolution_seconds, "sec")),
            _tile("First-contact resolution", _fmt(k.first_contact_resolution.fcr_rate, "pct")),
            _tile(
                "Avg queue wait",
                _fmt(k.queue_wait.avg_wait_seconds, "sec"),
                f"max {_fmt(k.queue_wait.max_wait_seconds, 'sec')}",
            ),
            _tile(
                "Abandonment",
                _fmt(k.abandonment.abandonment_rate, "pct"),
                f"{k.abandonment.abandoned} abandoned",
            ),
            _tile("CSAT", _fmt(k.csat.avg_score) + " / 5", f"{k.csat.responses} responses"),
            _tile("NPS", _fmt(k.nps.nps), f"{k.nps.responses} responses"),
            _tile(
                "SLA breach rate",
                _fmt(k.sla.breach_rate, "pct"),
                f"{k.sla.breached_tickets} of {k.sla.tickets} tickets",
            ),
            # issue 16: the ticket loop closed with the customer, CSAT of bot-only conversations
            _tile(
                "Ticket confirmation",
                _fmt(k.ticket_confirmation.confirmation_rate, "pct"),
                f"{k.ticket_confirmation.confirmed} of {k.ticket_confirmation.asked} asked; "
                f"{k.ticket_confirmation.reopened} reopened",
            ),
            *[_tile(f"CSAT ({row.handling.replace('_', ' ')})", _fmt(row.avg_score) + " / 5",
                    f"{row.responses} responses") for row in k.csat_by_handling],
            *[_tile(f"Campaign {row.campaign_id} ({row.channel}) replies", _fmt(row.reply_rate, "pct"),
                    f"{row.sent} sent, {row.delivered} delivered, {row.read} read, {row.failed} failed")
              for row in k.campaign_delivery],
        ]
    )
    html = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1><p class='sub'>{escape(period)}"
        + (f" · generated {generated_at:%Y-%m-%d %H:%M} UTC" if generated_at else "")
        + "</p>",
        f'<div class="tiles">{tiles}</div>',
    ]

    hours = hour_axis(k.start, k.end)
    index = {h: i for i, h in enumerate(hours)}
    by_channel: dict[str, list[float | None]] = defaultdict(lambda: [0.0] * len(hours))
    for v in k.volume_by_hour:
        hour = v.hour_start.replace(minute=0, second=0, microsecond=0)
        if hour in index:
            by_channel[v.channel][index[hour]] = float(v.messages_in)
    html.append(
        _section(
            "Inbound volume by channel",
            line_chart(dict(sorted(by_channel.items())), time_labels(hours), title="Messages in per hour"),
            "Customer messages per UTC hour; hours without messages count as 0.",
        )
    )

    trend_days, trends = day_axis(k.start, k.end), {d.day: d for d in k.daily_trends}
    days = [f"{d:%d %b}" for d in trend_days]
    daily = [trends.get(d) for d in trend_days]
    html.append(
        _section(
            "Bot containment and CSAT by day",
            line_chart(
                {
                    "Containment %": [
                        None if d is None or d.containment_rate is None else 100 * d.containment_rate
                        for d in daily
                    ]
                },
                days,
                title="Containment",
                y_max=100.0,
            )
            + line_chart({"CSAT (1-5)": [None if d is None else d.avg_csat for d in daily]}, days, title="CSAT",
                         y_max=5.0),
            "Days without data leave a gap in the line.",
        )
    )

    html.append(
        _section(
            "Top intents",
            bar_chart(
                [(i.intent, float(i.decisions)) for i in topics(k.volume_by_intent)[:10]],
                title="Bot decisions by intent",
            ),
        )
    )
    html.append(
        _section(
            "Escalation reasons",
            bar_chart(
                [(r.reason, float(r.handoffs)) for r in k.escalation_reasons[:10]], title="Handoffs by reason"
            ),
        )
    )
    html.append(
        _section(
            "CSAT distribution",
            bar_chart(
                [(f"{s} ★", float(n)) for s, n in sorted(k.csat.distribution.items(), reverse=True)],
                title="CSAT responses by score",
            ),
        )
    )
    hot = topics(k.hot_topics)
    if hot:
        html.append(
            _section(
                "Hot topics",
                _table(
                    ["Intent", "This period", "Previous period", "Change", "Growth"],
                    [
                        [
                            h.intent,
                            str(h.current_count),
                            str(h.previous_count),
                            f"+{h.count_change}",
                            _fmt(h.growth, "pct") if h.growth is not None else "new",
                        ]
                        for h in hot[:10]
                    ],
                ),
                "Intents rising against the previous period of equal length.",
            )
        )
    breach_days = [[d.day.isoformat(), str(d.sla_breaches)] for d in k.daily_trends if d.sla_breaches]
    if not k.sla.tickets:
        sla_body = '<p class="note">No tickets in this period.</p>'
    else:
        sla_body = bar_chart([("First response", float(k.sla.first_response_breaches)),
                              ("Resolution", float(k.sla.resolution_breaches))], title="SLA breaches by kind")
        sla_body += _table(["Day", "Breaches"], breach_days) if breach_days else (
            '<p class="note">No ticket breached its SLA.</p>')
    html.append(_section("SLA breaches", sla_body))

    if forecast is not None:
        html.append(
            _section(
                "Volume forecast (next 7 days)",
                line_chart(
                    {"Forecast": forecast.values},
                    time_labels(list(forecast.timestamps)),
                    title="Forecast contacts per hour",
                    band=(forecast.lower, forecast.upper),
                ),
                f"Method: {forecast.method}; shaded band is the 80% interval.",
            )
        )
    if staffing:
        rows = [
            [
                block_label(block[0].hour_start, block[-1].hour_start),
                f"{sum(r.arrivals_per_hour for r in block) / len(block):.1f}",
                f"{max(r.traffic_erlangs for r in block):.2f}",
                str(block[0].agents),
                str(block[0].scheduled_agents),
                _fmt(min(r.service_level for r in block), "pct"),
                _fmt(max(r.asa_seconds for r in block), "sec"),
                _fmt(max(r.occupancy for r in block), "pct"),
            ]
            for block in staffing_blocks(staffing)
        ]
        html.append(
            _section(
                "Staffing (Erlang C)",
                _table(["Hours (UTC)", "Contacts / hour", "Erlangs (peak)", "Agents", "Scheduled",
                        "Service level (worst)", "ASA (worst)", "Occupancy (peak)"], rows)
                if rows else '<p class="note">No contacts are forecast.</p>',
                "Agents needed for the service-level target; consecutive hours that need the same number of "
                "agents are one row, hours with no forecast contacts are omitted.",
            )
        )
    html.append("</body></html>")
    return "\n".join(html)


# --------------------------------------------------------------------------- axes and grouping


def hour_axis(start: datetime, end: datetime) -> list[datetime]:
    """Every UTC hour from ``start`` to before ``end`` (no hour skipped, so a quiet hour shows as 0)."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    hours: list[datetime] = []
    while hour < end and len(hours) < 24 * 120:
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def day_axis(start: datetime, end: datetime) -> list[date]:
    days: list[date] = []
    day = start.date()
    while datetime.combine(day, time(0), tzinfo=start.tzinfo) < end and len(days) < 400:
        days.append(day)
        day += timedelta(days=1)
    return days


def time_labels(hours: Sequence[datetime]) -> list[str]:
    """Axis labels for hourly positions: times within a two-day span, else dates at midnight only."""
    if len(hours) <= 48:
        return [f"{h:%a %H:%M}" for h in hours]
    return [f"{h:%d %b}" if h.hour == 0 or i == 0 else "" for i, h in enumerate(hours)]


def topics(rows: Sequence[_Intentful]) -> list[_Intentful]:
    """Rows whose intent is a business topic (no small talk, no "unknown")."""
    return [r for r in rows if (r.intent or "").strip().lower() not in NOT_TOPICS]


def staffing_blocks(rows: Sequence[StaffingRow]) -> list[list[StaffingRow]]:
    """Consecutive hours with contacts that need the same agents, grouped (a day of 24 equal rows is one)."""
    blocks: list[list[StaffingRow]] = []
    for row in rows:
        if row.arrivals_per_hour < 0.05:
            continue
        last = blocks[-1][-1] if blocks else None
        if (last is not None and row.hour_start - last.hour_start == timedelta(hours=1)
                and row.hour_start.date() == last.hour_start.date()
                and (row.agents, row.scheduled_agents) == (last.agents, last.scheduled_agents)):
            blocks[-1].append(row)
        else:
            blocks.append([row])
    return blocks


def block_label(first: datetime, last: datetime) -> str:
    end = last + timedelta(hours=1)
    return f"{first:%a %d %b %H:%M}" if first == last else f"{first:%a %d %b %H:%M}–{end:%H:%M}"
