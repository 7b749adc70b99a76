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
    """Parse ``argv`` and run the selected command; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)
