"""Typed, frozen settings read once from the environment.

Everything that must be configured (resource names) has no default: a missing variable fails at
start-up with its name instead of surfacing later as a confusing AWS error. Secrets are not here;
they come from `chalicelib.secrets`, which reads SSM in AWS and the environment locally.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} must be set")
    return value


@dataclass(frozen=True)
class Settings:
    """What the Lambda functions need to know about their environment."""

    stage: str
    region: str
    table_name: str
    escalation_queue_name: str
    interactions_stream_name: str
    analytics_bucket_name: str
    # Optional: where the API Gateway management API lives. Unset in AWS (derived from the
    # WebSocket event's apiId/stage), set by the local stack to its own gateway.
    websocket_management_endpoint: str | None = None
    # In AWS, secrets are read from SSM parameters under this prefix (e.g. /cs-platform/prod/).
    ssm_parameter_prefix: str | None = None
    max_text_chars: int = 4000
    history_page_max: int = 100
    connection_ttl_seconds: int = 2 * 3600 + 600
    # bot: the queue of knowledge-base retraining jobs; how often serving functions look for a new model
    training_queue_name: str | None = None
    # the FIFO queue that runs a stored message's effects off the request path (chalicelib/effects)
    effects_queue_name: str = "cs-platform-dev-effects.fifo"
    model_refresh_seconds: float = 10.0
    bot_enabled: bool = True
    # the language spoken to a customer whose messages and profile do not tell (chalicelib/i18n)
    default_language: str = "en"
    # analytics: KPIs run on Athena in AWS, on DuckDB (a dev-only dependency) in the local stack
    kpi_engine: str = "athena"
    athena_database: str | None = None
    athena_workgroup: str = "primary"
    athena_output_location: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            stage=env.get("STAGE", "dev"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or _required(env, "AWS_REGION"),
            table_name=_required(env, "TABLE_NAME"),
            escalation_queue_name=_required(env, "ESCALATION_QUEUE_NAME"),
            interactions_stream_name=_required(env, "INTERACTIONS_STREAM_NAME"),
            analytics_bucket_name=_required(env, "ANALYTICS_BUCKET_NAME"),
            websocket_management_endpoint=env.get("WEBSOCKET_MANAGEMENT_ENDPOINT") or None,
            ssm_parameter_prefix=env.get("SSM_PARAMETER_PREFIX") or None,
            # bot
            training_queue_name=env.get("TRAINING_QUEUE_NAME") or None,
            effects_queue_name=env.get("EFFECTS_QUEUE_NAME") or f"cs-platform-{env.get('STAGE', 'dev')}-effects.fifo",
            model_refresh_seconds=float(env.get("BOT_MODEL_REFRESH_SECONDS") or 10.0),
            bot_enabled=(env.get("BOT_ENABLED") or "true").strip().lower() not in ("0", "false", "no", "off"),
            default_language=(env.get("DEFAULT_LANGUAGE") or "en").strip().lower(),
            # analytics
            kpi_engine=(env.get("KPI_ENGINE") or "athena").strip().lower(),
            athena_database=env.get("ATHENA_DATABASE") or None,
            athena_workgroup=env.get("ATHENA_WORKGROUP") or "primary",
            athena_output_location=env.get("ATHENA_OUTPUT_LOCATION") or None,
        )
