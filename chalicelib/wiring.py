"""The one place where AWS clients and services are created.

Everything is built lazily on first use and cached for the life of the container, so importing
`app.py` makes no AWS call and costs little; `reset()` drops the cache (tests, the local stack
after it has pointed the environment at moto).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from chalicelib.settings import Settings

_lock = threading.RLock()


def _cached(fn):  # type: ignore[no-untyped-def]
    """functools.cache with a lock: the local stack calls handlers from several threads."""
    cached = functools.cache(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        with _lock:
            return cached(*args)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    _registry.append(cached)
    return wrapper


_registry: list[Any] = []


def reset() -> None:
    for cached in _registry:
        cached.cache_clear()


@_cached
def settings() -> Settings:
    return Settings.from_env()


@_cached
def session() -> Any:
    import boto3

    return boto3.session.Session(region_name=settings().region)


@_cached
def client(service: str) -> Any:
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10,
                    tcp_keepalive=True)
    return session().client(service, config=config)


@_cached
def management_client(endpoint: str) -> Any:
    from botocore.config import Config

    # Short timeouts and one retry: fan-out must not stall on a dead peer (410 is never retried).
    config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=5)
    return session().client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


@_cached
def secrets() -> Any:
    from chalicelib.secrets import Secrets

    return Secrets(prefix=settings().ssm_parameter_prefix, ssm_client_factory=lambda: client("ssm"))


@_cached
def conversation_store() -> Any:
    from chalicelib.store.conversation_store import ConversationStore

    return ConversationStore(client("dynamodb"), settings().table_name)


@_cached
def connection_store() -> Any:
    from chalicelib.store.connection_store import ConnectionStore

    return ConnectionStore(client("dynamodb"), settings().table_name, settings().connection_ttl_seconds)


@_cached
def pusher() -> Any:
    from chalicelib.chat.push import Pusher

    return Pusher(management_client)


@_cached
def conversations() -> Any:
    from chalicelib.conversations.service import ConversationService

    return ConversationService(conversation_store(), connection_store(), pusher())


@_cached
def chat() -> Any:
    from chalicelib.chat.handler import ChatHandler
    from chalicelib.observability import metrics

    return ChatHandler(settings(), conversations(), connection_store(), pusher(), secrets().require, metrics)
