"""Conversation analytics: interaction events, PII redaction, Kinesis publishing, S3 archiving, KPIs.

Events are pseudonymised and redacted before they leave the Lambda (``events``, ``redact``,
``publisher``), archived to S3 as partitioned gzip JSON Lines (``archive``), and queried with one
set of SQL files on Athena or DuckDB (``kpis``). ``forecast``, ``staffing`` and ``report`` turn
the KPI figures into a volume forecast, an Erlang C staffing plan and a self-contained HTML report.
Heavy dependencies (duckdb, numpy) are imported lazily by the modules that need them.

Wiring into the platform: ``emit`` (the one call other domains make; buffered per invocation and
flushed by the Powertools middleware), ``listener`` (every stored message -> events), ``live``
(per-day DynamoDB counters for the dashboard), ``api`` (``/metrics/*`` for supervisors) and
``planning`` (forecast + Erlang C staffing from the archive, shared by the API and the CLI).
"""
