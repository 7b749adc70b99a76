"""Untrusted JSON and text made safe before anything else touches it (issue 13, class 4).

`loads_json` is `json.loads` for bodies from outside: it refuses nesting deeper than `MAX_DEPTH`
(the C parser would raise RecursionError at ~1,000 levels, and DynamoDB stores at most 32), integers
longer than `MAX_INT_DIGITS` (Python refuses 4,300+ digits with a bare ValueError; DynamoDB numbers
have 38 digits), and NaN, Infinity or overflowing floats, each as `UnsafeJson` (a ValueError) with a
reason a client can act on. `scrub` replaces lone UTF-16 surrogates (`"\\ud83d"` in JSON, half an
emoji) with U+FFFD: such a string cannot be encoded as UTF-8, so it cannot be stored or sent.
`has_surrogate` tells identifiers apart, which are refused instead: two ids must never become one.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn, TypeAlias, TypeVar

MAX_DEPTH = 32
MAX_INT_DIGITS = 32
MAX_FLOAT_CHARS = 64

_SURROGATE = re.compile("[\ud800-\udfff]")


class UnsafeJson(ValueError):
    """The body is JSON we will not take (with the reason)."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise UnsafeJson(f"integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text) if len(text) <= MAX_FLOAT_CHARS else math.inf
    if not math.isfinite(value):
        raise UnsafeJson("number out of range")
    return value


T = TypeVar("T")
# Parsed JSON of a shape not known yet: narrow it with isinstance, or validate it into a model.
Json: TypeAlias = Any


def _parse_constant(name: str) -> NoReturn:
    raise UnsafeJson(f"{name} is not a JSON number")


def _depth(value: object) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads_json(raw: str | bytes | bytearray) -> Json:
    """Parse untrusted JSON; `UnsafeJson` for anything too deep, too long or not finite."""
    try:
        value = json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError as exc:
        raise UnsafeJson(f"nested deeper than {MAX_DEPTH} levels") from exc
    except UnsafeJson:
        raise
    except UnicodeDecodeError as exc:
        raise UnsafeJson("body is not UTF-8") from exc
    except ValueError as exc:  # json.JSONDecodeError, and int() limits
        raise UnsafeJson(f"invalid JSON: {exc}") from exc
    if _depth(value) > MAX_DEPTH:
        raise UnsafeJson(f"nested deeper than {MAX_DEPTH} levels")
    return value


def has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def scrub(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (valid text is returned as it is)."""
    return _SURROGATE.sub("\ufffd", text) if not text.isascii() else text


def scrub_value(value: object) -> object:
    """`scrub` applied to every string (and key) inside nested dicts and lists."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value
