"""Conversation analytics: interaction events, PII redaction, Kinesis publishing, S3 archiving, KPIs.

Events are pseudonymised and redacted before they leave the Lambda (``events``, ``redact``,
``publisher``), archived to S3 as partitioned gzip JSON Lines (``archive``), and queried with one
set of SQL files on Athena or DuckDB (``kpis``). ``forecast``, ``staffing`` and ``report`` turn
the KPI figures into a volume forecast, an Erlang C staffing plan and a self-contained HTML report.
Heavy dependencies (duckdb, numpy) are imported lazily by the modules that need them.
"""
