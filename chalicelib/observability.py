"""Powertools Logger, Tracer and Metrics, created once and attached to every function as middleware.

The service name differs from the Chalice app name on purpose: with the same name Powertools and
Chalice share one Python logger and every line is printed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

# -- analytics: personal data (phones, e-mails, ID and card numbers) is redacted from every log line
from chalicelib.analytics import emit as analytics_emit
from chalicelib.analytics.redact import RedactingFormatter

SERVICE = "cs-platform-svc"
NAMESPACE = "CustomerService"

logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

_cold_start = True


def _lambda_context(event: Any) -> Any:
    return getattr(event, "lambda_context", None) or getattr(event, "context", None)


def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Wrap one invocation: context keys and cold start in logs, a trace segment, flushed metrics."""
    global _cold_start
    context = _lambda_context(event)
    cold_start, _cold_start = _cold_start, False
    logger.clear_state()
    logger.append_keys(
        cold_start=cold_start,
        function_name=getattr(context, "function_name", None),
        function_request_id=getattr(context, "aws_request_id", None),
        event_type=type(event).__name__,
    )
    if cold_start:
        metrics.add_metric(name="ColdStart", unit="Count", value=1)
    try:
        # analytics: events emitted during the invocation go out in one PutRecords when it ends
        with analytics_emit.batch(), tracer.provider.in_subsegment(f"## {type(event).__name__}") as subsegment:
            subsegment.put_annotation(key="ColdStart", value=cold_start)
            return get_response(event)
    except Exception:
        logger.exception("unhandled error")
        raise
    finally:
        metrics.flush_metrics(raise_on_empty_metrics=False)
