from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def fault_proxy(aws_server: Any, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app's AWS calls go through local/fault_proxy.py to the moto server; no faults until a test sets rules.

    `aws_server` provisioned the resources directly on moto; from here on the app (built lazily) speaks to
    the proxy, while the test's own checks (`aws_server`'s session) read moto directly.
    """
    from chalicelib import services as composition
    from local.fault_proxy import FaultProxy

    proxy = FaultProxy(moto_server, seed=13)
    proxy.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    composition.reset()
    proxy.direct = lambda service: aws_server.client(service, endpoint_url=moto_server)  # type: ignore[attr-defined]
    yield proxy
    proxy.stop()
    composition.reset()
