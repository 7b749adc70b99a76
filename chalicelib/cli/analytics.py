"""Analytics commands: ``kpis``, ``report`` and ``forecast`` over the interaction archive.

    python -m chalicelib.cli kpis --from 2026-11-01 --to 2026-11-30 [--json]
    python -m chalicelib.cli report --from 2026-11-01 --to 2026-11-30 --out report.html
    python -m chalicelib.cli forecast [--days 7] [--json]

Data: ``--data DIR`` reads a local copy of the archive (``events/dt=.../hour=.../*.jsonl.gz``);
otherwise ``--bucket NAME`` (default: ANALYTICS_BUCKET_NAME with its placeholders resolved) is
read with boto3, which honours AWS_ENDPOINT_URL; with none of these set, the running local stack
(``make dev``) is found by itself, and without one the command says exactly what to set. Queries run on DuckDB
(a development dependency); ``--engine athena`` uses the stage's Athena settings instead.
``from``/``to`` are UTC dates (``to`` included) or ISO datetimes. Progress goes to stderr.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .local_stack import NotConfigured, resolve_bucket_name, resolve_target, s3_client
from .progress import ProgressBar

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from chalicelib.analytics.kpis import KpiEngine, KpiReport, ReportWindow
    from chalicelib.analytics.planning import ForecastPlan

    Progress = Callable[[str, float], None]  # (stage, fraction done)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def source(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, help="local archive directory (instead of the bucket)")
        p.add_argument("--bucket", help="analytics bucket (default: ANALYTICS_BUCKET_NAME)")
        p.add_argument("--engine", choices=("duckdb", "athena"), default="duckdb")
        p.add_argument("--no-progress", action="store_true", help="no progress on stderr")

    def window(p: argparse.ArgumentParser) -> None:
        p.add_argument("--from", dest="start", required=True, help="first UTC date (or ISO datetime)")
        p.add_argument("--to", dest="end", required=True, help="last UTC date, included (or ISO datetime)")

    kpis = subparsers.add_parser("kpis", help="KPIs of a period from the interaction archive")
    window(kpis)
    source(kpis)
    kpis.add_argument("--json", action="store_true", help="print the KpiReport as one JSON object")
    kpis.set_defaults(handler=run_kpis)

    report = subparsers.add_parser("report", help="HTML report with charts, forecast and staffing")
    window(report)
    source(report)
    report.add_argument("--out", type=Path, required=True, help="where to write the HTML file")
    report.add_argument("--title", default="Customer service report")
    report.add_argument("--forecast-days", type=int, default=7, help="forecast after the period (0: none)")
    report.set_defaults(handler=run_report)

    forecast = subparsers.add_parser("forecast", help="hourly demand forecast and agents needed (Erlang C)")
    source(forecast)
    forecast.add_argument("--days", type=int, default=7, help="days to forecast (1-14)")
    forecast.add_argument("--until", help="end of history, ISO (default: now)")
    forecast.add_argument("--history-days", type=int, default=28)
    forecast.add_argument("--service-level", type=float, default=0.8, help="share answered within target")
    forecast.add_argument("--target-seconds", type=float, default=20.0)
    forecast.add_argument("--aht", type=float, help="average handle time in seconds (default: measured)")
    forecast.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    forecast.set_defaults(handler=run_forecast)


# --------------------------------------------------------------------------- engine & helpers


class _Counting:
    """Wraps an engine to report progress per query."""

    def __init__(self, engine: KpiEngine, progress: Progress, stage: str, total: int) -> None:
        self.engine, self._progress, self._stage, self._total, self.done = engine, progress, stage, total, 0

    def run(self, sql: str, window: ReportWindow) -> list[dict[str, Any]]:
        rows = self.engine.run(sql, window)
        self.done += 1
        self._progress(self._stage, min(1.0, self.done / self._total))
        return rows


def _progress(args: argparse.Namespace) -> Progress:
    return (lambda stage, fraction: None) if args.no_progress else ProgressBar()


def _engine(args: argparse.Namespace) -> KpiEngine:
    if args.engine == "athena":
        from chalicelib.services import services

        return services().kpi_engines.create()
    from chalicelib.analytics.kpis import DuckDBEngine

    if args.data:
        if not args.data.is_dir():
            raise NotConfigured(f"--data {args.data}: no such directory")
        return DuckDBEngine(args.data)
    # the environment's AWS, else the running local stack (.local-data/stack.json), else what to set
    target = resolve_target(args.bucket)
    s3 = s3_client(target)
    return DuckDBEngine(s3_client=s3, bucket=resolve_bucket_name(target.bucket, target.region, s3))


def _window(args: argparse.Namespace) -> tuple[datetime, datetime]:
    from chalicelib.analytics.api import KpiQuery

    q = KpiQuery.model_validate({"from": args.start, "to": args.end})
    return q.start, q.end


def _close(engine: KpiEngine) -> None:
    close = getattr(engine, "close", None)
    if callable(close):
        close()


def _kpis(engine: KpiEngine, start: datetime, end: datetime, progress: Progress) -> KpiReport:
    from chalicelib.analytics.kpis import KPI_QUERIES, compute_kpis

    progress("kpis", 0.0)
    return compute_kpis(_Counting(engine, progress, "kpis", len(KPI_QUERIES)), start, end)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.1f}{unit}"


def kpi_summary(report: KpiReport) -> list[str]:
    from chalicelib.analytics.report import topics

    k = report
    conversations = sum(v.conversations for v in k.volume_by_channel)
    return [
        f"period                {k.start:%Y-%m-%d %H:%M} - {k.end:%Y-%m-%d %H:%M} UTC",
        f"conversations         {conversations:,}  ("
        + ", ".join(f"{v.channel} {v.conversations:,}" for v in k.volume_by_channel) + ")",
        f"messages in / out     {sum(v.messages_in for v in k.volume_by_channel):,} / "
        f"{sum(v.messages_out for v in k.volume_by_channel):,}",
        f"bot containment       {_pct(k.containment.containment_rate)}  "
        f"escalation {_pct(k.containment.escalation_rate)}",
        f"first response        bot {_num(k.first_response.avg_bot_first_response_seconds, ' s')}  "
        f"human {_num(k.first_response.avg_human_first_response_seconds, ' s')}",
        f"avg handle time       {_num(k.handle_time.avg_handle_seconds, ' s')} "
        f"(all {k.handle_time.resolutions} resolutions; agent-resolved "
        f"{_num(k.handle_time.avg_agent_handle_seconds, ' s')})",
        f"avg queue wait        {_num(k.queue_wait.avg_wait_seconds, ' s')}  abandonment "
        f"{_pct(k.abandonment.abandonment_rate)}",
        f"first-contact resol.  {_pct(k.first_contact_resolution.fcr_rate)}",
        f"CSAT                  {_num(k.csat.avg_score)} / 5 ({k.csat.responses} responses)   "
        f"NPS {_num(k.nps.nps)} ({k.nps.responses})",
        f"SLA breach rate       {_pct(k.sla.breach_rate)} ({k.sla.breached_tickets}/{k.sla.tickets} tickets)",
        "top intents           " + (", ".join(f"{i.intent} {i.decisions}" for i in topics(k.volume_by_intent)[:5])
                                     or "-"),
    ]


# --------------------------------------------------------------------------- commands


def run_kpis(args: argparse.Namespace) -> int:
    start, end = _window(args)
    progress = _progress(args)
    engine = _engine(args)
    try:
        report = _kpis(engine, start, end, progress)
    finally:
        _close(engine)
    if args.json:
        print(report.model_dump_json())
    else:
        print("\n".join(kpi_summary(report)))
    return 0


def run_report(args: argparse.Namespace) -> int:
    from chalicelib.analytics.planning import NotEnoughHistory, plan
    from chalicelib.analytics.report import render_report

    start, end = _window(args)
    progress = _progress(args)
    engine = _engine(args)
    started = time.monotonic()
    try:
        report = _kpis(engine, start, end, progress)
        forecast = staffing = None
        if args.forecast_days > 0:
            progress("forecast", 0.0)
            try:
                result = plan(_Counting(engine, progress, "forecast", 3), end, days=args.forecast_days)
                forecast, staffing = result.forecast, result.staffing
            except NotEnoughHistory as exc:
                print(f"no forecast: {exc}", file=sys.stderr)
    finally:
        _close(engine)
    progress("render", 0.0)
    html = render_report(report, forecast, staffing, title=args.title, generated_at=datetime.now(UTC))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(html, encoding="utf-8")
    progress("render", 1.0)
    if hasattr(progress, "close"):
        progress.close()
    print("\n".join(kpi_summary(report)))
    print(f"report written to {args.out} ({len(html):,} bytes, {time.monotonic() - started:.1f} s)")
    return 0


def run_forecast(args: argparse.Namespace) -> int:
    from chalicelib import ids
    from chalicelib.analytics.planning import NotEnoughHistory, plan

    if not 1 <= args.days <= 14:
        print("--days must be between 1 and 14", file=sys.stderr)
        return 2
    until = (datetime.fromisoformat(args.until.replace("Z", "+00:00")) if args.until
             else datetime.fromtimestamp(ids.now_ms() / 1000, UTC))
    progress = _progress(args)
    engine = _engine(args)
    try:
        result = plan(_Counting(engine, progress, "history", 3), until, days=args.days,
                      history_days=args.history_days, target_service_level=args.service_level,
                      target_seconds=args.target_seconds, aht_seconds=args.aht)
    except NotEnoughHistory as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        _close(engine)
    if args.json:
        print(result.model_dump_json())
        return 0
    print(forecast_text(result))
    return 0


def forecast_text(result: ForecastPlan) -> str:
    fc = result.forecast
    lines = [
        f"history   {result.history_start:%Y-%m-%d %H:00} - {result.history_end:%Y-%m-%d %H:00} UTC "
        f"({result.history_hours} h, {result.history_conversations:,} conversations), model {fc.method}",
        f"staffing  Erlang C for {result.target_service_level:.0%} answered in {result.target_seconds:.0f} s; "
        f"AHT {result.aht_seconds:.0f} s ({'measured' if result.aht_measured else 'assumed'}), "
        f"{result.escalation_rate:.1%} of conversations reach an agent",
        "",
        f"{'hour (UTC)':<17} {'forecast':>9} {'80% interval':>14} {'to agents':>10} {'agents':>7} {'SL':>6}",
    ]
    for ts, value, lo, hi, row in zip(fc.timestamps, fc.values, fc.lower, fc.upper, result.staffing, strict=True):
        lines.append(f"{ts:%a %m-%d %H:00}   {value:9.1f} {f'{lo:.1f}-{hi:.1f}':>14} "
                     f"{row.arrivals_per_hour:10.1f} {row.agents:7d} {row.service_level:6.0%}")
    ev = result.evaluation
    lines.append("")
    if ev is None:
        lines.append("forecast error: not enough history to hold out a week")
    else:
        lines.append(
            f"forecast error on the last {ev.horizon} h of history (held out): MAE {ev.model.mae:.2f} "
            f"sMAPE {ev.model.smape:.1f}%  vs seasonal-naive MAE {ev.seasonal_naive.mae:.2f} "
            f"sMAPE {ev.seasonal_naive.smape:.1f}%  ({ev.improvement_mae:.0%} lower MAE)")
    lines.append(f"peak agents needed: {max((r.agents for r in result.staffing), default=0)}; "
                 f"agent-hours: {sum(r.agents for r in result.staffing):,}")
    return "\n".join(lines)
