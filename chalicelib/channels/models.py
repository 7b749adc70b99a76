"""Pydantic models shared by every channel adapter.

``WebhookRequest`` is what the webhook route hands in (raw bytes, never a parsed
body), ``InboundEvent`` is the normalised result of parsing a platform webhook,
``OutboundMessage`` is what the core asks to send, and ``HttpCall`` is the
platform API request an adapter builds for it (executed by ``http.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.safeinput import has_surrogate, scrub

if TYPE_CHECKING:
    from chalice.app import Request

# A webhook channel's name: set by its adapter; the edges refuse names the registry does not list.
Channel = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Kind = Literal[
    "text",
    "image",
    "file",
    "audio",
    "video",
    "location",
    "postback",
    "follow",
    "unfollow",
    "read",
    "delivery",
    "unsupported",
]
MediaType = Literal["image", "file", "audio", "video"]

_SECRET_QUERY_KEYS = frozenset({"access_token", "secret"})

# Bounds on what a platform may put in one event (issue 13): every field must fit a DynamoDB item
# and key (400 KB, 2 KB partition key) with room to spare. Longer ids or lists refuse the body (400);
# names and labels are cut; long texts are capped by chalicelib.webhooks.limits (original kept in S3).
MAX_ID_CHARS = 256
MAX_NAME_CHARS = 200
MAX_LABEL_CHARS = 500
MAX_POSTBACK_CHARS = 4000
MAX_MEDIA = 20
MAX_CONTEXT_ENTRIES = 20
MAX_CONTEXT_VALUE_CHARS = 1024
MAX_MEDIA_BYTES = 10**13


ContextKey = Annotated[str, Field(max_length=64)]
ContextValue = Annotated[str, Field(max_length=MAX_CONTEXT_VALUE_CHARS)]


def _free_text(value: object, limit: int | None = None) -> object:
    """Free text: a lone surrogate becomes U+FFFD (it cannot be stored), names are cut to `limit`."""
    if not isinstance(value, str):
        return value
    value = scrub(value)
    return value[:limit] if limit else value


def _storable_id(value: object) -> object:
    """Ids are refused, not repaired, when they are not valid Unicode: two ids must never become one."""
    if isinstance(value, str) and has_surrogate(value):
        raise ValueError("must be valid Unicode (it holds a lone surrogate)")
    return value


class Headers(Mapping[str, str]):
    """Immutable, case-insensitive header mapping (keys are stored lower-cased)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, str] = {}
        for key, value in (data or {}).items():
            self._data[str(key).lower()] = "" if value is None else str(value)

    def __getitem__(self, key: str) -> str:
        return self._data[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Headers({self._data!r})"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class WebhookRequest(BaseModel):
    """An incoming webhook HTTP request exactly as received (body kept as raw bytes)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    method: str = "POST"
    headers: Headers = Field(default_factory=Headers)
    query: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: object) -> str:
        return str(value).upper()

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: object) -> Headers:
        if isinstance(value, Headers):
            return value
        return Headers(dict(value) if isinstance(value, Mapping) else {})

    @field_validator("query", mode="before")
    @classmethod
    def _query(cls, value: object) -> dict[str, str]:
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}

    @field_validator("body", mode="before")
    @classmethod
    def _body(cls, value: object) -> bytes:
        if value is None:
            return b""
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise ValueError("body must be bytes or text")

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup."""
        return self.headers.get(name, default)

    @classmethod
    def from_chalice(cls, request: Request) -> WebhookRequest:
        """Build from a ``chalice.app.Request`` (duck-typed; needs ``raw_body``)."""
        return cls(
            method=request.method,
            headers=dict(request.headers or {}),
            query=dict(request.query_params or {}),
            body=request.raw_body or b"",
        )


class MediaRef(BaseModel):
    """A reference to platform-hosted media (fetch it later with the platform's media API)."""

    model_config = ConfigDict(frozen=True)

    media_id: str | None = Field(default=None, max_length=1024)
    url: str | None = Field(default=None, max_length=4096)
    mime_type: str | None = Field(default=None, max_length=255)
    file_name: str | None = None
    size: int | None = Field(default=None, ge=0, le=MAX_MEDIA_BYTES)
    caption: str | None = None

    @field_validator("media_id", "url", "mime_type", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _storable_id(value)

    @field_validator("file_name", mode="before")
    @classmethod
    def _name(cls, value: object) -> object:
        return _free_text(value, MAX_LABEL_CHARS)

    @field_validator("caption", mode="before")
    @classmethod
    def _caption(cls, value: object) -> object:
        return _free_text(value, MAX_POSTBACK_CHARS)


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    label: str | None = None
    address: str | None = None

    @field_validator("label", "address", mode="before")
    @classmethod
    def _labels(cls, value: object) -> object:
        return _free_text(value, MAX_LABEL_CHARS)


class InboundEvent(BaseModel):
    """One normalised inbound message or event. ``dedup_key`` is globally unique per channel."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    event_key: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    external_user_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    kind: Kind
    raw_type: str = Field(max_length=128)
    platform_ts: datetime
    unionid: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    profile_name: str | None = None
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    text: str | None = None
    media: list[MediaRef] = Field(default_factory=list, max_length=MAX_MEDIA)
    location: Location | None = None
    postback: str | None = Field(default=None, max_length=MAX_POSTBACK_CHARS)
    status: str | None = Field(default=None, max_length=64)
    related_message_ids: list[Annotated[str, Field(max_length=MAX_ID_CHARS)]] = Field(
        default_factory=list, max_length=1000)
    is_redelivery: bool = False
    reply_context: dict[ContextKey, ContextValue] = Field(default_factory=dict, max_length=MAX_CONTEXT_ENTRIES)

    @field_validator("event_key", "external_user_id", "unionid", "phone", "email", "status", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _storable_id(value)

    @field_validator("related_message_ids", "reply_context", mode="before")
    @classmethod
    def _id_collections(cls, value: object) -> object:
        for item in (value.items() if isinstance(value, dict) else value) if isinstance(value, dict | list) else ():
            for part in item if isinstance(item, tuple) else (item,):
                _storable_id(part)
        return value

    @field_validator("profile_name", mode="before")
    @classmethod
    def _name(cls, value: object) -> object:
        return _free_text(value, MAX_NAME_CHARS)

    @field_validator("text", "postback", "raw_type", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _free_text(value)

    @field_validator("platform_ts")
    @classmethod
    def _ts_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @property
    def dedup_key(self) -> str:
        """Key for the dedup store: ``<channel>:<event_key>``."""
        return f"{self.channel}:{self.event_key}"


class QuickReply(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str = Field(min_length=1)
    payload: str = Field(min_length=1)


class OutboundMedia(BaseModel):
    """Media to send: a public HTTPS ``url`` (or a platform ``media_id`` where required, e.g. WeChat)."""

    model_config = ConfigDict(frozen=True)

    type: MediaType
    url: str | None = None
    media_id: str | None = None
    file_name: str | None = None
    size_bytes: int | None = None

    @model_validator(mode="after")
    def _has_source(self) -> OutboundMedia:
        if not self.url and not self.media_id:
            raise ValueError("media needs a url or a media_id")
        return self


class Template(BaseModel):
    """A pre-approved template (WhatsApp template; WeChat template message id)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    language: str = "en_US"
    params: list[str] | dict[str, str] = Field(default_factory=list)


class OutboundMessage(BaseModel):
    """A message the core wants delivered to one customer on one channel."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    recipient_id: str = Field(min_length=1)
    text: str | None = None
    quick_replies: list[QuickReply] = Field(default_factory=list)
    media: OutboundMedia | None = None
    template: Template | None = None
    message_tag: str | None = None  # Messenger only, e.g. "HUMAN_AGENT" (7-day window)
    reply_context: dict[str, str] = Field(default_factory=dict)


class HttpCall(BaseModel):
    """A fully built platform API request. ``body`` (raw bytes) wins over ``json`` when set."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    channel: Channel
    method: Literal["GET", "POST"] = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any | None = Field(default=None, alias="json")
    body: bytes | None = None

    def encoded_body(self) -> bytes | None:
        """Bytes to put on the wire (``body`` or compact UTF-8 JSON)."""
        if self.body is not None:
            return self.body
        if self.json_body is None:
            return None
        return json.dumps(self.json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def redacted_url(self) -> str:
        """URL safe for logs: access tokens in query/path are masked."""
        parts = urlsplit(self.url)
        query = [(k, "***" if k in _SECRET_QUERY_KEYS else v) for k, v in parse_qsl(parts.query)]
        path = parts.path
        if "/bot" in path:  # Telegram puts the bot token in the path
            head, _, tail = path.partition("/bot")
            path = head + "/bot***/" + tail.split("/", 1)[-1] if "/" in tail else head + "/bot***"
        return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, safe="*"), ""))

    def __repr_args__(self) -> Iterator[tuple[str, object]]:
        yield "channel", self.channel
        yield "method", self.method
        yield "url", self.redacted_url()
