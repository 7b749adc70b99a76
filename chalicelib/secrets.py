"""Secrets by name: SSM Parameter Store (via Powertools Parameters) in AWS, the environment locally.

With SSM_PARAMETER_PREFIX set (e.g. `/cs-platform/prod/`), `get("WECHAT_TOKEN")` reads the
SecureString `/cs-platform/prod/WECHAT_TOKEN`, cached for five minutes so rotation needs no deploy.
Without it, the variable of the same name is used (local stack, tests).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from chalicelib.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

CACHE_SECONDS = 300


class MissingSecret(DomainError):
    code = "not_configured"
    status = 503


class Secrets:
    def __init__(self, prefix: str | None = None, env: Mapping[str, str] | None = None,
                 ssm_client_factory: Callable[[], Any] | None = None) -> None:
        self._prefix = prefix
        self._env = os.environ if env is None else env
        self._ssm_client_factory = ssm_client_factory
        self._provider: Any = None

    def get(self, name: str) -> str | None:
        if not self._prefix:
            return self._env.get(name) or None
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            client = self._ssm_client_factory() if self._ssm_client_factory else None
            self._provider = SSMProvider(boto3_client=client)
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._provider.get(f"{self._prefix}{name}", decrypt=True, max_age=CACHE_SECONDS)
        except GetParameterError:
            return None
        return str(value) if value else None

    def require(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise MissingSecret(f"secret {name} is not configured")
        return value

    def many(self, names: list[str]) -> dict[str, str]:
        """The configured subset of `names` (platform adapters take a mapping)."""
        return {n: v for n in names if (v := self.get(n))}
