"""A tiny dependency-free progress bar that writes to stderr (never stdout).

On a terminal it redraws one line in place; when stderr is redirected it prints a line only
when a stage starts and finishes, so logs stay short. Use as a ``progress(stage, fraction)``
callback, e.g. for :func:`chalicelib.bot.nlu.train`.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Callable ``(stage, fraction)`` progress reporter."""

    def __init__(self, stream: TextIO | None = None, width: int = 30, min_interval: float = 0.1) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.min_interval = min_interval
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stage = ""
        self._last = 0.0
        self._done = False

    def __call__(self, stage: str, fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        now = time.monotonic()
        if stage != self._stage:
            self._finish_line()
            self._stage, self._done, self._last = stage, False, 0.0
            if not self.tty:
                self.stream.write(f"{stage} ...\n")
        if self._done:
            return
        if fraction >= 1.0:
            self._draw(fraction)
            self._done = True
            if not self.tty:
                self.stream.write(f"{stage} done\n")
            self._finish_line()
        elif self.tty and now - self._last >= self.min_interval:
            self._draw(fraction)
            self._last = now
        self.stream.flush()

    def _draw(self, fraction: float) -> None:
        if not self.tty:
            return
        filled = round(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self._stage:<12} [{bar}] {fraction * 100:5.1f}%")

    def _finish_line(self) -> None:
        if self.tty and self._stage and self._last >= 0:
            self.stream.write("\n")
            self._last = -1.0

    def close(self) -> None:
        """End the current line (call once when all stages are done)."""
        self._finish_line()
        self.stream.flush()
