"""KPI queries written once (``sql/*.sql``) and run on DuckDB locally or Athena in AWS.

Each SQL file reads two relations that the engine binds: ``interactions`` (the archived events,
deduplicated by ``event_id``, limited to ``[prev_start_ts, end_ts)``, with every column of
``events.COLUMNS`` plus ``event_time`` (UTC ``TIMESTAMP``) and ``event_epoch`` (seconds, ``DOUBLE``))
and ``report_window`` (one row: ``start_ts``, ``end_ts``, ``prev_start_ts``; the previous period has
the same length as the report period). Only functions common to Trino and DuckDB are used.
``DuckDBEngine`` creates temp views over local gzip JSON Lines (optionally downloaded from S3 first);
``AthenaEngine`` prefixes the SQL with CTEs over the Glue table and polls Athena. ``compute_kpis``
runs every query and returns a ``KpiReport``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field, field_validator

from chalicelib.settings import Settings, SettingsError

from .events import COLUMNS

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_s3 import S3Client

SQL_DIR = Path(__file__).with_name("sql")
DEFAULT_TABLE = "interaction_events"
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- window & SQL files
class ReportWindow(BaseModel):
    """The report period ``[start, end)`` (UTC) and the previous period of equal length."""

    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def prev_start(self) -> datetime:
        return self.start - (self.end - self.start)

    def days(self) -> list[date]:
        """Every UTC date touched by ``[prev_start, end)``."""
        first, last = self.prev_start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def sql_literal(ts: datetime) -> str:
    """A naive-UTC ``TIMESTAMP '...'`` literal valid in Trino and DuckDB."""
    return "TIMESTAMP '" + ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "'"


@cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text()


def query_names() -> list[str]:
    return sorted(p.stem for p in SQL_DIR.glob("*.sql"))


# --------------------------------------------------------------------------- engines
class KpiEngine(Protocol):
    """Runs one KPI SQL text against ``interactions``/``report_window`` bound to ``window``."""

    def run(self, sql: str, window: ReportWindow) -> list[dict[str, Any]]: ...


class DuckDBEngine:
    """DuckDB over gzip JSON Lines in ``data_dir`` (``events/dt=.../hour=.../*.jsonl.gz`` or any depth).

    With ``s3_client`` and ``bucket`` the objects of the needed ``dt=`` partitions are downloaded
    into ``data_dir`` (a temp dir when omitted) before the first query of a window.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        s3_client: S3Client | None = None,
        bucket: str | None = None,
        prefix: str = "events/",
        threads: int = 2,
    ) -> None:
        import duckdb  # lazy: only the local engine needs it

        if data_dir is None and s3_client is None:
            raise ValueError("give data_dir, or s3_client and bucket")
        self._tmp = None if data_dir is not None else tempfile.mkdtemp(prefix="kpi-duckdb-")
        self.data_dir = Path(data_dir) if data_dir is not None else Path(str(self._tmp))
        self._s3, self._bucket, self._prefix = s3_client, bucket, prefix.rstrip("/") + "/"
        self._con = duckdb.connect(":memory:", config={"threads": threads})
        self._bound: ReportWindow | None = None
        self._downloaded: set[str] = set()

    def close(self) -> None:
        self._con.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync_from_s3(self, window: ReportWindow) -> int:
        """Download archive objects of the window's ``dt=`` partitions; returns objects fetched."""
        if self._s3 is None or self._bucket is None:
            return 0
        fetched = 0
        paginator = self._s3.get_paginator("list_objects_v2")
        for day in window.days():
            part = f"{self._prefix}dt={day.isoformat()}/"
            for page in paginator.paginate(Bucket=self._bucket, Prefix=part):
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    tag = f"{key}:{obj.get('ETag', '')}"
                    if not key.endswith(".jsonl.gz") or tag in self._downloaded:
                        continue
                    dest = self.data_dir / key
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    self._s3.download_file(self._bucket, key, str(dest))
                    self._downloaded.add(tag)
                    fetched += 1
        return fetched

    def _bind(self, window: ReportWindow) -> None:
        if self._bound == window:
            return
        self.sync_from_s3(window)
        self._con.execute(
            "CREATE OR REPLACE TEMP VIEW report_window AS SELECT "
            f"{sql_literal(window.start)} AS start_ts, {sql_literal(window.end)} AS end_ts, "
            f"{sql_literal(window.prev_start)} AS prev_start_ts"
        )
        files = sorted(self.data_dir.rglob("*.jsonl.gz"))
        if files:
            cols = ", ".join(f"'{name}': '{typ}'" for name, typ in COLUMNS.items())
            file_list = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            source = (
                f"read_json([{file_list}], format = 'newline_delimited', compression = 'gzip', "
                f"columns = {{{cols}}})"
            )
        else:
            source = (
                "(SELECT "
                + ", ".join(f"CAST(NULL AS {typ}) AS {name}" for name, typ in COLUMNS.items())
                + " WHERE 1 = 0)"
            )
        self._con.execute(
            f"""CREATE OR REPLACE TEMP VIEW interactions AS
            SELECT * EXCLUDE (rn) FROM (
              SELECT r.*, CAST(r.ts AS TIMESTAMP) AS event_time,
                     epoch(CAST(r.ts AS TIMESTAMP)) AS event_epoch,
                     row_number() OVER (PARTITION BY r.event_id ORDER BY r.ts) AS rn
              FROM {source} r
            ) d
            WHERE rn = 1
              AND event_time >= {sql_literal(window.prev_start)}
              AND event_time < {sql_literal(window.end)}"""
        )
        self._bound = window

    def run(self, sql: str, window: ReportWindow) -> list[dict[str, Any]]:
        self._bind(window)
        cursor = self._con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def athena_prelude(window: ReportWindow | None, table: str = DEFAULT_TABLE) -> str:
    """CTEs binding ``report_window`` and ``interactions`` in Athena (Trino).

    With ``window=None`` the window is the last 7 full UTC days before today (for saved queries).
    """
    if window is None:
        today = "date_trunc('day', CAST(current_timestamp AT TIME ZONE 'UTC' AS timestamp))"
        bounds = (
            f"date_add('day', -7, {today}) AS start_ts, {today} AS end_ts, "
            f"date_add('day', -14, {today}) AS prev_start_ts"
        )
        dt_filter = "e.dt >= CAST(date_add('day', -15, current_date) AS VARCHAR)"
    else:
        bounds = (
            f"{sql_literal(window.start)} AS start_ts, {sql_literal(window.end)} AS end_ts, "
            f"{sql_literal(window.prev_start)} AS prev_start_ts"
        )
        days = window.days()
        dt_filter = f"e.dt BETWEEN '{days[0].isoformat()}' AND '{days[-1].isoformat()}'"
    return f"""WITH report_window AS (
  SELECT {bounds}
),
interactions AS (
  SELECT d.*
  FROM (
    SELECT
      e.*,
      CAST(from_iso8601_timestamp(e.ts) AT TIME ZONE 'UTC' AS timestamp) AS event_time,
      to_unixtime(from_iso8601_timestamp(e.ts)) AS event_epoch,
      row_number() OVER (PARTITION BY e.event_id ORDER BY e.ts) AS rn
    FROM {table} e
    WHERE {dt_filter}
  ) d
  CROSS JOIN report_window w
  WHERE d.rn = 1
    AND d.event_time >= w.prev_start_ts
    AND d.event_time < w.end_ts
)"""


def athena_query(sql: str, window: ReportWindow | None, table: str = DEFAULT_TABLE) -> str:
    """The KPI ``sql`` unchanged, wrapped as a subquery after the Athena bindings."""
    return f"{athena_prelude(window, table)}\nSELECT * FROM (\n{sql.rstrip()}\n) kpi\n"


class AthenaQueryError(RuntimeError):
    """An Athena query failed, was cancelled or timed out."""


_ATHENA_CASTS: dict[str, Callable[[str], Any]] = {
    "tinyint": int,
    "smallint": int,
    "integer": int,
    "bigint": int,
    "double": float,
    "float": float,
    "real": float,
    "decimal": float,
    "boolean": lambda v: v.lower() == "true",
}


class AthenaEngine:
    """Runs KPI SQL on Athena with boto3 (start_query_execution, polling, paginated results)."""

    def __init__(
        self,
        athena_client: AthenaClient,
        database: str,
        *,
        table: str = DEFAULT_TABLE,
        workgroup: str = "primary",
        output_location: str | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float = 5.0,
        timeout: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = athena_client
        self._database = database
        self._table = table
        self._workgroup = workgroup
        self._output = output_location
        self._poll, self._max_poll, self._timeout = poll_interval, max_poll_interval, timeout
        self._sleep, self._clock = sleep, clock

    def run(self, sql: str, window: ReportWindow) -> list[dict[str, Any]]:
        query_id = self.start(athena_query(sql, window, self._table))
        self.wait(query_id)
        return self.results(query_id)

    def start(self, query: str) -> str:
        params: dict[str, Any] = {
            "QueryString": query,
            "QueryExecutionContext": {"Database": self._database},
            "WorkGroup": self._workgroup,
        }
        if self._output:
            params["ResultConfiguration"] = {"OutputLocation": self._output}
        return self._client.start_query_execution(**params)["QueryExecutionId"]

    def wait(self, query_id: str) -> None:
        deadline = self._clock() + self._timeout
        delay = self._poll
        while True:
            status = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get(
                    "ErrorMessage", ""
                )
                raise AthenaQueryError(f"Athena query {query_id} {state}: {reason}")
            if self._clock() + delay > deadline:
                self._client.stop_query_execution(QueryExecutionId=query_id)
                raise AthenaQueryError(f"Athena query {query_id} timed out after {self._timeout:.0f}s")
            self._sleep(delay)
            delay = min(self._max_poll, delay * 1.5)

    def results(self, query_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        names: list[str] = []
        casts: list[Callable[[str], Any] | None] = []
        token: str | None = None
        first_page = True
        while True:
            params: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": 1000}
            if token:
                params["NextToken"] = token
            page = self._client.get_query_results(**params)
            result_set = page["ResultSet"]
            data = result_set.get("Rows", [])
            if first_page:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                names = [c["Name"] for c in info]
                casts = [_ATHENA_CASTS.get(c.get("Type", "varchar").lower()) for c in info]
                data = data[1:]  # the first row of the first page repeats the column names
                first_page = False
            for row in data:
                values = [cell.get("VarCharValue") for cell in row.get("Data", [])]
                rows.append(
                    {
                        name: (None if value is None else cast(value) if cast else value)
                        for name, value, cast in zip(names, values, casts, strict=False)
                    }
                )
            token = page.get("NextToken")
            if not token:
                return rows


# --------------------------------------------------------------------------- report model
class ChannelVolume(BaseModel):
    channel: str
    conversations: int
    messages_in: int
    messages_out: int


class HourlyVolume(BaseModel):
    hour_start: datetime
    channel: str
    messages_in: int
    conversations: int

    @field_validator("hour_start", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return _as_utc(value)


class IntentVolume(BaseModel):
    intent: str
    decisions: int
    conversations: int
    avg_confidence: float | None
    handoffs: int


class FirstResponse(BaseModel):
    bot_responses: int = 0
    avg_bot_first_response_seconds: float | None = None
    human_responses: int = 0
    avg_human_first_response_seconds: float | None = None
    max_human_first_response_seconds: float | None = None


class HandleTime(BaseModel):
    resolutions: int = 0
    avg_handle_seconds: float | None = None
    agent_resolutions: int = 0
    avg_agent_handle_seconds: float | None = None
    bot_resolutions: int = 0
    avg_bot_handle_seconds: float | None = None


class ResolutionTime(BaseModel):
    resolved_conversations: int = 0
    avg_resolution_seconds: float | None = None
    max_resolution_seconds: float | None = None


class FirstContactResolution(BaseModel):
    resolved_conversations: int = 0
    first_contact_resolved: int = 0
    fcr_rate: float | None = None


class Containment(BaseModel):
    conversations: int = 0
    bot_handled: int = 0
    escalated: int = 0
    contained: int = 0
    containment_rate: float | None = None
    escalation_rate: float | None = None


class EscalationReason(BaseModel):
    reason: str
    handoffs: int
    conversations: int


class QueueWaitKpi(BaseModel):
    waits: int = 0
    avg_wait_seconds: float | None = None
    max_wait_seconds: float | None = None
    waits_over_60s: int = 0


class Abandonment(BaseModel):
    closed: int = 0
    abandoned: int = 0
    abandonment_rate: float | None = None


class CsatKpi(BaseModel):
    responses: int = 0
    avg_score: float | None = None
    satisfied_rate: float | None = None
    score_1: int = 0
    score_2: int = 0
    score_3: int = 0
    score_4: int = 0
    score_5: int = 0

    @property
    def distribution(self) -> dict[int, int]:
        return {s: getattr(self, f"score_{s}") for s in range(1, 6)}


class NpsKpi(BaseModel):
    responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    nps: float | None = None


class SlaKpi(BaseModel):
    tickets: int = 0
    breached_tickets: int = 0
    first_response_breaches: int = 0
    resolution_breaches: int = 0
    breach_rate: float | None = None


class HotTopic(BaseModel):
    intent: str
    current_count: int
    previous_count: int
    count_change: int
    growth: float | None


class DailyTrend(BaseModel):
    day: date
    conversations: int
    containment_rate: float | None
    csat_responses: int
    avg_csat: float | None
    sla_breaches: int

    @field_validator("day", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return value.date() if isinstance(value, datetime) else str(value)[:10]


class TicketConfirmationKpi(BaseModel):
    """Issue 16: the ticket loop closed with the customer's confirmation."""

    asked: int = 0
    confirmed: int = 0
    reopened: int = 0
    confirmation_rate: float | None = None
    response_rate: float | None = None


class CsatByHandling(BaseModel):
    """Issue 16: CSAT of conversations the bot handled alone vs. with an agent."""

    handling: str
    responses: int
    avg_score: float | None = None
    satisfied_rate: float | None = None


class CampaignDelivery(BaseModel):
    """Issue 16: one campaign's delivery report on one channel (recipients whose state changed in the window)."""

    campaign_id: str
    channel: str
    queued: int = 0
    skipped: int = 0
    sent: int = 0
    delivered: int = 0  # delivered or read
    read: int = 0
    failed: int = 0
    replied: int = 0
    delivery_rate: float | None = None
    read_rate: float | None = None
    reply_rate: float | None = None
    failure_rate: float | None = None  # failed over those sent or failed before they could be


class KpiReport(BaseModel):
    """All KPIs for one report window."""

    start: datetime
    end: datetime
    volume_by_channel: list[ChannelVolume] = Field(default_factory=list)
    volume_by_hour: list[HourlyVolume] = Field(default_factory=list)
    volume_by_intent: list[IntentVolume] = Field(default_factory=list)
    first_response: FirstResponse = Field(default_factory=FirstResponse)
    handle_time: HandleTime = Field(default_factory=HandleTime)
    resolution_time: ResolutionTime = Field(default_factory=ResolutionTime)
    first_contact_resolution: FirstContactResolution = Field(default_factory=FirstContactResolution)
    containment: Containment = Field(default_factory=Containment)
    escalation_reasons: list[EscalationReason] = Field(default_factory=list)
    queue_wait: QueueWaitKpi = Field(default_factory=QueueWaitKpi)
    abandonment: Abandonment = Field(default_factory=Abandonment)
    csat: CsatKpi = Field(default_factory=CsatKpi)
    nps: NpsKpi = Field(default_factory=NpsKpi)
    sla: SlaKpi = Field(default_factory=SlaKpi)
    hot_topics: list[HotTopic] = Field(default_factory=list)
    daily_trends: list[DailyTrend] = Field(default_factory=list)
    ticket_confirmation: TicketConfirmationKpi = Field(default_factory=TicketConfirmationKpi)
    csat_by_handling: list[CsatByHandling] = Field(default_factory=list)
    campaign_delivery: list[CampaignDelivery] = Field(default_factory=list)


def _as_utc(value: object) -> object:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# KpiReport field -> (SQL file, row model, many rows?, sort key for list results)
KPI_QUERIES: dict[str, tuple[str, type[BaseModel], bool, Callable[[Any], Any] | None]] = {
    "volume_by_channel": ("volume_by_channel", ChannelVolume, True, lambda r: (-r.conversations, r.channel)),
    "volume_by_hour": ("volume_by_hour", HourlyVolume, True, lambda r: (r.hour_start, r.channel)),
    "volume_by_intent": ("volume_by_intent", IntentVolume, True, lambda r: (-r.decisions, r.intent)),
    "first_response": ("first_response", FirstResponse, False, None),
    "handle_time": ("handle_time", HandleTime, False, None),
    "resolution_time": ("resolution_time", ResolutionTime, False, None),
    "first_contact_resolution": ("first_contact_resolution", FirstContactResolution, False, None),
    "containment": ("containment", Containment, False, None),
    "escalation_reasons": ("escalation_reasons", EscalationReason, True, lambda r: (-r.handoffs, r.reason)),
    "queue_wait": ("queue_wait", QueueWaitKpi, False, None),
    "abandonment": ("abandonment", Abandonment, False, None),
    "csat": ("csat", CsatKpi, False, None),
    "nps": ("nps", NpsKpi, False, None),
    "sla": ("sla", SlaKpi, False, None),
    "hot_topics": ("hot_topics", HotTopic, True, lambda r: (-r.count_change, r.intent)),
    "daily_trends": ("daily_trends", DailyTrend, True, lambda r: r.day),
    # issue 16
    "ticket_confirmation": ("ticket_confirmation", TicketConfirmationKpi, False, None),
    "csat_by_handling": ("csat_by_handling", CsatByHandling, True, lambda r: r.handling),
    "campaign_delivery": ("campaign_delivery", CampaignDelivery, True, lambda r: (r.campaign_id, r.channel)),
}


def _clean(row: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """Drop NULLs for fields that have defaults (aggregates over no rows)."""
    return {k: v for k, v in row.items() if v is not None or model.model_fields[k].is_required()}


def compute_kpis(engine: KpiEngine, start: datetime, end: datetime) -> KpiReport:
    """Run every KPI query for ``[start, end)`` on ``engine`` and collect a ``KpiReport``."""
    window = ReportWindow(start=start, end=end)
    values: dict[str, Any] = {"start": window.start, "end": window.end}
    for field_name, (sql_name, model, many, sort_key) in KPI_QUERIES.items():
        rows = engine.run(load_sql(sql_name), window)
        if many:
            items = [model.model_validate(_clean(r, model)) for r in rows]
            values[field_name] = sorted(items, key=sort_key) if sort_key else items
        elif rows:
            values[field_name] = model.model_validate(_clean(rows[0], model))
    return KpiReport.model_validate(values)


class KpiEngines:
    """Makes the engine KPIs run on: ``KPI_ENGINE=athena`` (AWS, default) or ``duckdb`` (the local stack)."""

    def __init__(self, settings: Settings, *, s3: Callable[[], S3Client], athena: Callable[[], AthenaClient],
                 bucket: Callable[[], str],
                 resolve: Callable[[str], str]) -> None:
        self._settings = settings
        self._s3, self._athena, self._bucket, self._resolve = s3, athena, bucket, resolve

    def create(self) -> DuckDBEngine | AthenaEngine:
        if self._settings.kpi_engine == "duckdb":
            return DuckDBEngine(s3_client=self._s3(), bucket=self._bucket())
        if not self._settings.athena_database:
            raise SettingsError("environment variable ATHENA_DATABASE must be set (or KPI_ENGINE=duckdb)")
        output = self._settings.athena_output_location or f"s3://{self._bucket()}/athena-results/"
        return AthenaEngine(self._athena(), database=self._settings.athena_database,
                            workgroup=self._settings.athena_workgroup, output_location=self._resolve(output),
                            timeout=25.0)
