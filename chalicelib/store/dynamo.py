"""Small helpers over DynamoDB errors and expressions (the client itself is called by `store.table`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.exceptions import ClientError


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def is_condition_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reason codes of a cancelled TransactWriteItems call ("None" for items that passed)."""
    if error_code(exc) != "TransactionCanceledException":
        return []
    reasons = exc.response.get("CancellationReasons")
    if reasons:
        return [r.get("Code", "None") for r in reasons]
    # Some SDK paths only carry the reasons in the message: "... [None, ConditionalCheckFailed]".
    message = exc.response.get("Error", {}).get("Message", "")
    if "[" in message and "]" in message:
        inner = message[message.index("[") + 1 : message.rindex("]")]
        return [part.strip() for part in inner.split(",")]
    return []


def names(*attrs: str) -> dict[str, str]:
    """ExpressionAttributeNames for attributes that may be reserved words (#status -> status)."""
    return {f"#{a}": a for a in attrs}

