"""Command-line tools of the platform: ``python -m chalicelib.cli <command> ...``.

Every module in this package that defines ``register(subparsers)`` contributes its own
sub-commands (``bot.py`` adds ``bot evaluate``); :func:`build_parser` discovers them, so a new
command group is one new module with no edits elsewhere. Handlers return a process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

_NOT_COMMANDS = frozenset({"__main__", "progress"})


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in _NOT_COMMANDS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the selected command; returns the exit code.

    What a user can fix is said in one line on stderr (exit 2: missing file or configuration,
    unreachable URL, invalid option value), not as a traceback; Ctrl-C exits 130 quietly.
    """
    import sys
    import urllib.error

    from pydantic import ValidationError

    from .local_stack import NotConfigured

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except NotConfigured as exc:
        sys.stderr.write(f"{parser.prog} {args.command}: {exc}\n")
    except FileNotFoundError as exc:
        sys.stderr.write(f"{parser.prog} {args.command}: no such file: {exc.filename}\n")
    except urllib.error.URLError as exc:  # refused connections and DNS errors, with the URL asked for
        url = getattr(exc, "url", None) or getattr(args, "api", None) or "the server"
        sys.stderr.write(f"{parser.prog} {args.command}: cannot reach {url}: {exc.reason}\n")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())
        sys.stderr.write(f"{parser.prog} {args.command}: {problems}\n")
    except _aws_errors() as exc:
        sys.stderr.write(f"{parser.prog} {args.command}: {exc}\n")
    return 2


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError

    return (EndpointConnectionError, NoCredentialsError, NoRegionError)
