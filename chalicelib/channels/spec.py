"""What the platform knows about one webhook channel, declared once, in the channel's own module.

Each adapter module defines a `ChannelSpec` and its adapter carries it as `spec`; the registry lists
the adapters, and everything else (which secrets a channel reads, which setting points its API at
another host, its sending rules, how to read the platform's id of a sent message, which channels
the analytics stream knows) is derived from the registry. Adding a channel therefore touches its
own module, its registry entry and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from .policies import ChannelPolicy


def _generic_sent_id(answer: Mapping[str, Any]) -> object:
    return answer.get("id")


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    secrets: tuple[str, ...]  # SSM SecureStrings in AWS, environment variables locally
    api_base_setting: str | None  # the (non-secret) setting pointing the platform's API elsewhere (local stack)
    policy: ChannelPolicy  # sending rules: lengths, quick replies, media, the customer-service window
    sent_id: Callable[[Mapping[str, Any]], object] = _generic_sent_id  # the platform's id in its send answer
