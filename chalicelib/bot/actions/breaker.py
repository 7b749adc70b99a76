"""A circuit breaker per action endpoint, shared by every Lambda container through DynamoDB.

Lambda containers share no memory, so an in-process breaker would let each of hundreds of
containers pay its own timeouts against a company API that is down. The state is one item per
endpoint (``ACTIONEP#<digest>/BREAKER``): ``failures`` (consecutive failed calls) and
``opened_until_ms``. A failed call is an atomic ``ADD failures 1``; the ``threshold``-th opens the
circuit for ``cooldown_ms``. While it is open no call is made. After the cooldown the circuit is
half-open: calls go through; the next failure re-opens it at once (``failures`` is still at or over
the threshold), a success closes it (``failures`` back to 0). Several containers may probe at the
same moment of half-opening; that is a handful of calls, not a stampede. Reads are eventually
consistent (one GetItem before a call); a success writes only when there were failures to clear.
The item expires by TTL a day after its last failure.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from chalicelib import ids
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.store.table import Table

logger = Logger(child=True)

DAY_MS = 24 * 3600 * 1000


def endpoint_digest(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:32]


class CircuitBreaker:
    def __init__(self, table: Table, *, threshold: int = 5, cooldown_ms: int = 30_000,
                 clock: Callable[[], int] = ids.now_ms) -> None:
        self._table = table
        self.threshold = max(1, threshold)
        self.cooldown_ms = max(0, cooldown_ms)
        self._clock = clock

    def _key(self, endpoint: str) -> dict[str, Any]:
        pk, sk = keys.action_breaker_key(endpoint_digest(endpoint))
        return {schema.PK: encode_value(pk), schema.SK: encode_value(sk)}

    def state(self, endpoint: str) -> dict[str, Any]:
        return self._table.get(self._key(endpoint)) or {}

    def check(self, endpoint: str) -> tuple[bool, int]:
        """(open, consecutive failures) of ``endpoint`` before a call."""
        state = self.state(endpoint)
        return int(state.get("opened_until_ms", 0)) > self._clock(), int(state.get("failures", 0))

    def record_failure(self, endpoint: str) -> None:
        now = self._clock()
        response = self._table.update_item(
            Key=self._key(endpoint), ReturnValues="ALL_NEW",
            UpdateExpression=f"ADD failures :one SET last_failure_ms = :now, endpoint_digest = :d, "
                             f"{schema.TTL_ATTRIBUTE} = :ttl",
            ExpressionAttributeValues={":one": encode_value(1), ":now": encode_value(now),
                                       ":d": encode_value(endpoint_digest(endpoint)),
                                       ":ttl": encode_value((now + DAY_MS) // 1000)})
        failures = int((decode(response.get("Attributes")) or {}).get("failures", 0))
        if failures >= self.threshold:
            self._table.update_item(
                Key=self._key(endpoint), UpdateExpression="SET opened_until_ms = :until",
                ExpressionAttributeValues={":until": encode_value(now + self.cooldown_ms)})
            logger.warning("action circuit opened", extra={"endpoint_digest": endpoint_digest(endpoint),
                                                           "failures": failures, "cooldown_ms": self.cooldown_ms})

    def record_success(self, endpoint: str, failures: int) -> None:
        """Close the circuit; writes only when ``failures`` (read by ``check``) were recorded."""
        if not failures:
            return
        self._table.update_item(Key=self._key(endpoint), UpdateExpression="SET failures = :zero REMOVE opened_until_ms",
                                ExpressionAttributeValues={":zero": encode_value(0)})
