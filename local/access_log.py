"""The local REST server (Chalice's own) with an access log that prints no personal data.

Chalice's request handler logs every request line as sent, so `GET /customers/lookup?channel=
whatsapp&external_id=8613800138000` put a customer's phone number on the console and into CI logs.
Here each query value is replaced by `***` (the parameter names stay, so the log still tells what
was asked) and the path goes through the analytics redactor. Only the local stack uses this; in AWS,
API Gateway's access log format is configured in infra/ and logs no query strings.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

from chalicelib.analytics.redact import redact_text

MASK = "***"
_QUERY = re.compile(r"\?[^\s'\"]*")


def redact_target(target: str) -> str:
    """A request target (path and query) fit for a log: query values masked, the path redacted."""
    parts = urlsplit(target)
    query = urlencode([(name, MASK) for name, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    if parts.query and not query:
        query = MASK  # a query string that is no list of name=value pairs is masked whole
    return urlunsplit(("", "", redact_text(parts.path), query, ""))


def redact_request_line(line: str) -> str:
    """`GET /path?q=v HTTP/1.1` with its target passed through `redact_target`."""
    method, sep, rest = line.partition(" ")
    target, sep2, version = rest.rpartition(" ") if rest.count(" ") else (rest, "", "")
    return f"{method}{sep}{redact_target(target)}{sep2}{version}"


class RedactingRequestHandler(ChaliceRequestHandler):
    """Chalice's handler, logging request lines through `redact_request_line`."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        self.log_message('"%s" %s %s', redact_request_line(self.requestline), str(code), str(size))

    def log_error(self, format: str, *args: Any) -> None:
        # stdlib error lines may quote the raw request line ("Bad request version ('GET /x?q=v HTTP/9')")
        self.log_message("%s", _QUERY.sub("?" + MASK, redact_text(format % args)))


def create_rest_server(app: Any, config: Any, host: str, port: int) -> LocalDevServer:
    """`chalice.local.create_local_server`, with the redacting request handler."""
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=RedactingRequestHandler)
