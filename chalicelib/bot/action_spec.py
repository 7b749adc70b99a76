"""An action as the knowledge base stores it with its intent (validated when the intent is saved).

``url`` is the company's HTTPS endpoint. It may start with a ``{NAME}`` placeholder resolved at call
time from configuration / SSM (``chalicelib.secrets``), e.g. ``{SHOP_API_URL}/actions/order-status``,
so one knowledge base serves every stage. Plain ``http://`` is accepted only for loopback hosts
(the local shop API of ``make dev``). ``secret`` names the configured HMAC key the request is signed
with (``X-Signature-Timestamp`` / ``X-Signature: v1=...``, exactly as the generic webhook channel).
``templates`` are the answer per language; ``{field}`` placeholders are filled from the response's
top-level fields and from the slots (``{order_number}``).
"""

from __future__ import annotations

import re
import string
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SlotName = Literal["order_number", "phone", "email", "date", "amount"]
SLOT_NAMES: tuple[SlotName, ...] = ("order_number", "phone", "email", "date", "amount")
ACTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")
URL_PLACEHOLDER = re.compile(r"^\{([A-Z][A-Z0-9_]{0,127})\}")
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class ActionTemplates(BaseModel):
    """The answer per language; at least one language is required."""

    model_config = ConfigDict(extra="forbid")

    zh: str | None = Field(default=None, max_length=2000)
    en: str | None = Field(default=None, max_length=2000)

    @field_validator("zh", "en")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        placeholders(value)
        return value.strip()

    def get(self, language: str) -> str:
        first = self.zh if language == "zh" else self.en if language == "en" else None
        return first or self.zh or self.en or ""


def placeholders(template: str) -> list[str]:
    """The ``{field}`` names of a template; raises ValueError for anything but plain field names."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"the template is malformed: {exc}") from exc
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not FIELD_NAME.match(name) or spec or conversion:
            raise ValueError(f"template placeholders are plain field names such as {{status}}, not {{{name}}}")
        names.append(name)
    return names


class ActionSpec(BaseModel):
    """What an intent's action calls, which slots it needs, and how its answer reads."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="the action's name; an action named 'orders' also feeds the agents' context")
    url: str = Field(max_length=2000)
    secret: str = Field(description="the configured HMAC key (configuration / SSM) the request is signed with")
    slots: list[SlotName] = Field(default_factory=list, max_length=5)
    templates: ActionTemplates
    order_number_pattern: str | None = Field(
        default=None, max_length=200,
        description="a regular expression for this company's order numbers (default: ACTION_ORDER_NUMBER_PATTERN)")
    retries: int = Field(default=1, ge=0, le=2)
    timeout_seconds: float = Field(default=2.0, gt=0, le=2.0)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ACTION_NAME.match(value):
            raise ValueError("an action name is 1-64 characters: lower-case letters, digits, '_', '.', '-'")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if not SECRET_NAME.match(value):
            raise ValueError("the secret is the NAME of a configured secret (A-Z, 0-9, _), not its value")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        check_url(URL_PLACEHOLDER.sub("https://placeholder.invalid", value, count=1))
        return value

    @field_validator("slots")
    @classmethod
    def _slots(cls, value: list[SlotName]) -> list[SlotName]:
        return list(dict.fromkeys(value))

    @field_validator("order_number_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"order_number_pattern is not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _usable(self) -> ActionSpec:
        if not (self.templates.zh or self.templates.en):
            raise ValueError("an action needs an answer template in at least one language")
        return self

    def resolved_url(self, lookup: dict[str, str | None]) -> str | None:
        """The URL with its ``{NAME}`` placeholder filled from ``lookup`` (None if it is not configured)."""
        match = URL_PLACEHOLDER.match(self.url)
        if match is None:
            return self.url
        base = lookup.get(match.group(1))
        return base.rstrip("/") + self.url[match.end():] if base else None

    def placeholder_name(self) -> str | None:
        match = URL_PLACEHOLDER.match(self.url)
        return match.group(1) if match else None


def check_url(url: str) -> str:
    """HTTPS, or HTTP to a loopback host; raises ValueError otherwise."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("the action's url needs a host")
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK):
        return url
    raise ValueError("the action's url must be https:// (http:// only for localhost)")
