"""The local stack's bot: import the sample knowledge base at start-up and train it in the background.

It goes through the real path: the KB is written with a version bump, a job goes on the training
queue, the SQS poller runs the `train_model` function, which publishes `models/kb-v1.bin` and the
`MODEL#CURRENT` pointer. A thread waits for the pointer, loads the model into the serving process
(so the first customer message does not pay for it) and prints `bot: model kb-v<n> live ...`.

`BOT_SAMPLE_KB=<path to a KB JSON>` picks another KB, `BOT_SAMPLE_KB=none` starts without one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from chalicelib.bot.sample_kb import SAMPLE_KB_PATH

log = logging.getLogger("local.bot_seed")


def seed(say: Callable[[str], None] = print, timeout: float = 300) -> threading.Thread | None:
    """Import the sample KB (if the KB is empty) and report in the background when its model is live."""
    from chalicelib import services as composition
    from chalicelib.bot import kb_io
    from chalicelib.bot.training import TrainJob

    choice = os.environ.get("BOT_SAMPLE_KB", "").strip()
    if choice.lower() == "none":
        say("bot: no sample knowledge base (BOT_SAMPLE_KB=none); the bot hands every chat to a human")
        return None
    path = Path(choice) if choice else SAMPLE_KB_PATH
    started = time.monotonic()
    store = composition.services().kb_store
    if store.version() == 0:
        document = kb_io.from_json(path.read_text(encoding="utf-8"))
        version, written, _ = store.replace_all(document, actor="local-devserver", replace=False)
        composition.services().training_queue.enqueue(TrainJob(version=version, requested_by="local-devserver",
                                                 reason="sample_kb"))
        say(f"bot: imported {written} intents from {path.name} (kb v{version}); training in the background")

    def wait() -> None:
        registry = composition.services().model_registry
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pointer = registry.pointer(consistent=True)
            except Exception:  # the stack may be stopping
                log.debug("pointer read failed", exc_info=True)
                pointer = None
            if pointer is not None:
                live = composition.services().model_provider.refresh()  # load it here, not on the first message
                say(f"bot: model kb-v{pointer.version} live ({pointer.intents} intents, trained in "
                    f"{pointer.train_seconds:.1f} s, {time.monotonic() - started:.1f} s after start-up)"
                    + ("" if live is not None else " - but it could not be loaded, see the logs"))
                return
            time.sleep(0.5)
        say(f"bot: no model after {timeout:.0f} s; see the train_model logs")

    thread = threading.Thread(target=wait, name="bot-seed", daemon=True)
    thread.start()
    return thread
