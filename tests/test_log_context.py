"""Log keys belong to one invocation (issue 11, item 7).

The local stack runs every function in one process, on threads; Powertools keys set with
``append_keys`` live in the one formatter all of them share, so a "bot decision" logged by a
``ws_message`` invocation carried the keys of a ``ws_disconnect`` running at the same time.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from chalicelib import observability
from chalicelib.observability import logger, middleware

DEADLINE = 30.0


def _event(function_name: str) -> SimpleNamespace:
    context = SimpleNamespace(function_name=function_name, aws_request_id=f"req-{function_name}")
    return SimpleNamespace(lambda_context=context)


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    target = logging.getLogger(observability.SERVICE)
    target.addHandler(handler)
    try:
        yield stream
    finally:
        target.removeHandler(handler)


def test_log_keys_of_concurrent_invocations_do_not_mix() -> None:
    # given two functions running at the same time in one process (as in the local stack)
    observe = middleware(contextlib.nullcontext)
    message_keys_set, disconnect_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def ws_message(_event: object) -> None:
        logger.thread_safe_append_keys(conversation_id="conv-message", customer_id="cust-message")
        message_keys_set.set()
        assert disconnect_done.wait(DEADLINE)
        logger.info("bot decision")

    def ws_disconnect(_event: object) -> None:
        assert message_keys_set.wait(DEADLINE)
        logger.thread_safe_append_keys(connection_id="conn-disconnect")
        logger.info("disconnected")
        disconnect_done.set()

    def run(name: str, handler: object) -> None:
        try:
            observe(_event(name), handler)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)
            message_keys_set.set()
            disconnect_done.set()

    with _captured() as stream:
        threads = [threading.Thread(target=run, args=("ws_message", ws_message)),
                   threading.Thread(target=run, args=("ws_disconnect", ws_disconnect))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
    assert not errors, errors
    lines = {line["message"]: line for line in map(json.loads, stream.getvalue().splitlines())}

    # then each line carries its own invocation's keys and no other's
    decision, disconnected = lines["bot decision"], lines["disconnected"]
    assert decision["function_name"] == "ws_message" and decision["conversation_id"] == "conv-message"
    assert "connection_id" not in decision
    assert disconnected["function_name"] == "ws_disconnect" and disconnected["connection_id"] == "conn-disconnect"
    assert "conversation_id" not in disconnected and "customer_id" not in disconnected


def test_log_keys_do_not_outlive_their_invocation_on_a_reused_thread() -> None:
    # given one worker thread that runs two invocations one after the other (a thread pool)
    observe = middleware(contextlib.nullcontext)
    with _captured() as stream:
        observe(_event("ws_message"), lambda _e: logger.thread_safe_append_keys(conversation_id="conv-1"))
        observe(_event("ws_disconnect"), lambda _e: logger.info("disconnected"))
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["function_name"] == "ws_disconnect" and "conversation_id" not in line


def test_lambda_code_sets_log_keys_per_invocation_only() -> None:
    # the shared-formatter API is what leaked; chalicelib uses the thread-safe one
    offenders = []
    for path in Path("chalicelib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("append_keys", "remove_keys", "clear_state"):
                offenders.append(f"{path}:{node.lineno} {node.attr}")
    assert offenders == []
