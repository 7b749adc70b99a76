"""The ``Adapter`` protocol every platform module implements, plus shared helpers.

Call order for a webhook: ``verify`` (authenticates the RAW bytes, constant time,
before anything is parsed) → ``parse`` (list of ``InboundEvent``). ``handshake``
answers the platform's GET verification. ``prepare_send`` turns an
``OutboundMessage`` into ``HttpCall``s; nothing here performs I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import ValidationError

from chalicelib.safeinput import Json, UnsafeJson, loads_json

from .errors import ConfigurationError, MalformedPayload, SignatureError
from .models import HttpCall, InboundEvent, OutboundMessage, WebhookRequest

if TYPE_CHECKING:
    from .spec import ChannelSpec

Secrets = Mapping[str, str]

MAX_BODY_BYTES = 1_000_000


@runtime_checkable
class Adapter(Protocol):
    spec: ClassVar[ChannelSpec]  # what the platform knows about the channel (chalicelib/channels/spec.py)

    def verify(self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None) -> None:
        """Raise ``SignatureError`` unless the request is authentic."""

    def handshake(self, request: WebhookRequest, secrets: Secrets) -> tuple[int, str]:
        """Answer a GET verification request: ``(status, body)``."""

    def parse(
        self, request: WebhookRequest, secrets: Secrets, *, now: datetime | None = None
    ) -> list[InboundEvent]:
        """Parse an already verified request; raise ``MalformedPayload`` on bad bodies."""

    def prepare_send(
        self, message: OutboundMessage, secrets: Secrets, *, access_token: str | None = None
    ) -> list[HttpCall]:
        """Build the platform API calls that deliver ``message``."""


def secret(secrets: Secrets, name: str) -> str:
    """Return a required secret or raise ``ConfigurationError`` (never an empty string)."""
    value = secrets.get(name)
    if not value:
        raise ConfigurationError(f"missing secret {name}")
    return value


def api_base(secrets: Secrets, name: str, default: str) -> str:
    return (secrets.get(name) or default).rstrip("/")


def hmac_sha256(key: str | bytes, data: bytes) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    return hmac.new(key, data, hashlib.sha256).digest()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(b, str):
        b = b.encode("utf-8")
    return hmac.compare_digest(a, b)


def verify_meta_signature(request: WebhookRequest, app_secret: str) -> None:
    """Meta ``X-Hub-Signature-256: sha256=<hex>`` over the raw body."""
    header = request.header("X-Hub-Signature-256")
    if not header:
        raise SignatureError("missing X-Hub-Signature-256", status=401)
    scheme, _, provided = header.strip().partition("=")
    if scheme != "sha256" or not provided:
        raise SignatureError("unsupported signature scheme")
    expected = hmac_sha256(app_secret, request.body).hex()
    if not constant_time_equal(expected, provided.lower()):
        raise SignatureError("signature mismatch")


def meta_handshake(request: WebhookRequest, verify_token: str) -> tuple[int, str]:
    """Meta webhook subscription check (``hub.mode``/``hub.verify_token``/``hub.challenge``)."""
    q = request.query
    mode, token, challenge = q.get("hub.mode"), q.get("hub.verify_token", ""), q.get("hub.challenge")
    if mode != "subscribe" or challenge is None:
        return 400, "bad request"
    if not constant_time_equal(token, verify_token):
        return 403, "forbidden"
    return 200, challenge


def load_json(body: bytes) -> Json:
    if len(body) > MAX_BODY_BYTES:
        raise MalformedPayload("body too large")
    try:
        return loads_json(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"invalid JSON: {exc}") from exc
    except UnsafeJson as exc:  # too deep, too long a number, NaN: refused before anything is stored
        raise MalformedPayload(str(exc) if str(exc).startswith("invalid JSON") else f"invalid JSON: {exc}") from exc


def from_unix(seconds: object) -> datetime:
    try:
        return datetime.fromtimestamp(float(seconds), UTC)  # type: ignore[arg-type]  # refused below
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise MalformedPayload(f"bad timestamp {seconds!r}") from exc


def from_unix_ms(ms: object) -> datetime:
    try:
        return datetime.fromtimestamp(float(ms) / 1000.0, UTC)  # type: ignore[arg-type]  # refused below
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise MalformedPayload(f"bad timestamp {ms!r}") from exc


def utcnow(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def need(obj: Json, key: str, typ: type | tuple[type, ...] = str, where: str = "payload") -> Json:
    """Fetch a required, typed field or raise ``MalformedPayload``."""
    if not isinstance(obj, dict) or key not in obj or obj[key] is None:
        raise MalformedPayload(f"{where}: missing {key}")
    value = obj[key]
    if typ is str and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, typ) or (isinstance(value, bool) and typ is not bool):
        raise MalformedPayload(f"{where}: {key} has wrong type")
    return value


def mapping(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (an optional part of a payload)."""
    return value if isinstance(value, dict) else {}


def as_dict(obj: object, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise MalformedPayload(f"{where}: expected an object")
    return obj


def as_list(obj: object, where: str) -> list[Json]:
    if obj is None:
        return []
    if not isinstance(obj, list):
        raise MalformedPayload(f"{where}: expected a list")
    return obj


def build_event(**fields: Any) -> InboundEvent:
    """Construct an ``InboundEvent``; validation problems become ``MalformedPayload``."""
    try:
        return InboundEvent(**fields)
    except ValidationError as exc:
        raise MalformedPayload(f"invalid event: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from exc
