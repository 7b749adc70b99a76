"""The live model in a serving function: loaded lazily, refreshed without a redeploy.

The first message a container classifies loads the model the ``MODEL#CURRENT`` pointer names
(GetItem + S3 GetObject + ``NluModel.from_bytes``). After that the pointer is read at most every
``BOT_MODEL_REFRESH_SECONDS`` (default 10 s; every second while no model is loaded yet); a newer
version is loaded and swapped in, an older or equal one is ignored. A failed refresh keeps the model
already loaded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.bot.nlu import NluModel
    from chalicelib.bot.training import ModelPointer, ModelRegistry

logger = Logger(child=True)

NO_MODEL_RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class LiveModel:
    version: int
    model: NluModel
    kb: dict[str, Any] = field(default_factory=dict)  # {"intents": {name: {answers, titles, tags}}}

    def entry(self, intent: str | None) -> dict[str, Any] | None:
        return self.kb.get("intents", {}).get(intent) if intent else None


class ModelProvider:
    def __init__(self, registry: ModelRegistry, refresh_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._registry = registry
        self._refresh = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._live: LiveModel | None = None
        self._checked: float | None = None

    def current(self) -> LiveModel | None:
        """The newest model known to this container (``None`` until one has been trained)."""
        now = self._clock()
        if self._checked is not None and now - self._checked < self._interval():
            return self._live
        with self._lock:
            if self._checked is None or now - self._checked >= self._interval():
                self._checked = now
                self._refresh_from_pointer()
        return self._live

    def refresh(self) -> LiveModel | None:
        """Read the pointer now (e.g. right after publishing), whatever the interval."""
        with self._lock:
            self._checked = self._clock()
            self._refresh_from_pointer()
        return self._live

    def _interval(self) -> float:
        # Until a first model is loaded, look more often: the first training is awaited by everyone.
        return self._refresh if self._live is not None else min(self._refresh, NO_MODEL_RECHECK_SECONDS)

    def _refresh_from_pointer(self) -> None:
        try:
            pointer = self._registry.pointer()
            if pointer is None or (self._live is not None and pointer.version <= self._live.version):
                return
            self._live = self._load(pointer)
            logger.info("bot model loaded", extra={"kb_version": pointer.version})
        except Exception:  # a broken artifact or a throttled read must not take the bot down
            logger.exception("could not refresh the bot model; keeping the current one")

    def _load(self, pointer: ModelPointer) -> LiveModel:
        from chalicelib.bot.nlu import NluModel

        model = NluModel.from_bytes(self._registry.load(pointer))
        return LiveModel(pointer.version, model, dict(model.meta.get("kb") or {}))
