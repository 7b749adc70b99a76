"""Powertools Logger, Tracer and Metrics, created once and attached to every function as middleware.

The service name differs from the Chalice app name on purpose: with the same name Powertools and
Chalice share one Python logger and every line is printed twice.

Per-invocation keys (the function, the request id, a handler's ``conversation_id`` ...) are set with
``logger.thread_safe_append_keys``, which keeps them in a context variable of the invocation's
thread. ``append_keys`` would put them in the one formatter every function of the process shares:
on Lambda one process runs one invocation at a time, but the local stack runs every function in one
process, on threads, and a line logged by one invocation then carried another's keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer

# -- analytics: personal data (phones, e-mails, ID and card numbers) is redacted from every log line
from chalicelib.analytics.redact import RedactingFormatter

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from aws_lambda_powertools.utilities.typing import LambdaContext

SERVICE = "cs-platform-svc"
NAMESPACE = "CustomerService"

logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

_cold_start = True


def _lambda_context(event: object) -> LambdaContext | None:
    return getattr(event, "lambda_context", None) or getattr(event, "context", None)


def subscriber_failed(subscriber: Callable[[object], object], event: object, exc: Exception) -> None:
    """The event bus's error hook: a subscriber's failure is logged and counted, never raised."""
    name = getattr(subscriber, "__qualname__", type(subscriber).__name__)
    logger.error("event subscriber failed", exc_info=exc,
                 extra={"subscriber": name, "domain_event": type(event).__name__})
    metrics.add_metric(name="SubscriberFailures", unit="Count", value=1)


Middleware = Callable[[object, Callable[[object], object]], object]


def middleware(batch: Callable[[], AbstractContextManager[None]]) -> Middleware:
    """The Chalice middleware for every function; `batch` buffers analytics events per invocation."""

    def observe(event: object, get_response: Callable[[object], object]) -> object:
        return _invocation(event, get_response, batch)

    return observe


def _invocation(event: object, get_response: Callable[[object], object],
                batch: Callable[[], AbstractContextManager[None]]) -> object:
    """Wrap one invocation: context keys and cold start in logs, a trace segment, flushed metrics."""
    global _cold_start
    context = _lambda_context(event)
    cold_start, _cold_start = _cold_start, False
    logger.thread_safe_clear_keys()  # this thread's keys only; other invocations may be running
    logger.thread_safe_append_keys(
        cold_start=cold_start,
        function_name=getattr(context, "function_name", None),
        function_request_id=getattr(context, "aws_request_id", None),
        event_type=type(event).__name__,
    )
    if cold_start:
        metrics.add_metric(name="ColdStart", unit="Count", value=1)
    try:
        # analytics: events emitted during the invocation go out in one PutRecords when it ends
        with batch(), tracer.provider.in_subsegment(f"## {type(event).__name__}") as subsegment:
            subsegment.put_annotation(key="ColdStart", value=cold_start)
            return get_response(event)
    except Exception:
        logger.exception("unhandled error")
        raise
    finally:
        metrics.flush_metrics(raise_on_empty_metrics=False)
