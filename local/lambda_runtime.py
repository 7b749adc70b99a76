"""What the Lambda runtime gives a handler besides the event: a context object, and a timed call.

Only the local stack uses this; in AWS the real runtime provides both.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    function_name: str
    timeout_seconds: int = 30
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def invoke(handler: Any, event: dict[str, Any], function_name: str, timeout_seconds: int = 30) -> Any:
    """Call a Lambda handler as the runtime would: a fresh context per invocation."""
    context = LambdaContext(function_name=function_name, timeout_seconds=timeout_seconds,
                            log_group_name=f"/aws/lambda/{function_name}")
    return handler(event, context)
