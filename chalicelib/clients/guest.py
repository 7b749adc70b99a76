"""Guest chat: short-lived customer tokens for website visitors who are not signed in.

`POST /auth/guest` is off unless GUEST_CHAT_ENABLED. Without a token it creates a new guest
customer (`gst_<ULID>`, profile marked `guest`) and answers a customer JWT (HS256, the same
CUSTOMER_TOKEN_SECRET the company's backend uses, claim `guest: true`) valid GUEST_TOKEN_TTL_SECONDS;
new guests are limited per client address (GUEST_RATE_LIMIT per GUEST_RATE_WINDOW_SECONDS, counted
in DynamoDB under a keyed hash of the address). With `Authorization: Bearer <guest token>` (still
valid, or expired less than GUEST_RENEW_GRACE_SECONDS ago) it renews the token of the same guest, so
a visitor keeps their conversation; a guest that has been merged into a real customer is refused.
When the visitor signs in, the company merges the guest into its customer (`POST
/customers/{id}/merge`) and switches the widget to its own token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from botocore.exceptions import ClientError

from chalicelib import ids
from chalicelib.auth.tokens import ALGORITHM, bearer_token
from chalicelib.errors import DomainError, Forbidden, NotFound
from chalicelib.store import keys, schema
from chalicelib.store.codec import decode, encode, encode_value
from chalicelib.store.dynamo import is_condition_failure

GUEST_PREFIX = "gst"
GUEST_NAME = "Guest"


class TooManyRequests(DomainError):
    code = "rate_limited"
    status = 429


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class GuestSettings:
    enabled: bool = False
    token_ttl_seconds: int = 3600
    renew_grace_seconds: int = 86400
    rate_limit: int = 10
    rate_window_seconds: int = 600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GuestSettings:
        env = os.environ if env is None else env
        return cls(
            enabled=_flag(env.get("GUEST_CHAT_ENABLED")),
            token_ttl_seconds=int(env.get("GUEST_TOKEN_TTL_SECONDS") or 3600),
            renew_grace_seconds=int(env.get("GUEST_RENEW_GRACE_SECONDS") or 86400),
            rate_limit=int(env.get("GUEST_RATE_LIMIT") or 10),
            rate_window_seconds=int(env.get("GUEST_RATE_WINDOW_SECONDS") or 600),
        )


class GuestTokens:
    def __init__(self, client: Any, table_name: str, secret: Callable[[str], str], settings: GuestSettings,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = client
        self._table = table_name
        self._secret = secret
        self._settings = settings
        self._clock = clock

    def issue(self, source_ip: str | None, authorization: str | None) -> dict[str, Any]:
        """`{"token", "customer_id", "expires_at", "renewed"}` for a new guest, or the same one renewed."""
        if not self._settings.enabled:
            raise NotFound("guest chat is not enabled", code="guest_chat_disabled")
        presented = bearer_token(authorization)
        if presented:
            return self._renew(presented)
        self._count(source_ip or "unknown")
        customer_id = ids.new_id(GUEST_PREFIX)
        now = ids.now_ms()
        self._db.put_item(
            TableName=self._table,
            Item=encode({schema.PK: keys.customer_pk(customer_id), schema.SK: keys.PROFILE_SK,
                         "customer_id": customer_id, "name": GUEST_NAME, "guest": True, "vip": False,
                         "created_ms": now, "updated_ms": now}),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return self._token(customer_id, renewed=False)

    def _renew(self, token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self._secret("CUSTOMER_TOKEN_SECRET"), algorithms=[ALGORITHM],
                                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False})
        except jwt.InvalidTokenError as exc:
            raise Forbidden("token is not valid", code="token_invalid") from exc
        subject = str(claims.get("sub", ""))
        if claims.get("guest") is not True or not subject.startswith(f"{GUEST_PREFIX}_"):
            raise Forbidden("only guest tokens are renewed here", code="not_a_guest")
        if int(claims["exp"]) + self._settings.renew_grace_seconds < self._clock():
            raise Forbidden("the guest token is too old to renew", code="token_expired")
        profile = decode(self._db.get_item(TableName=self._table, ConsistentRead=True, Key=encode(
            {schema.PK: keys.customer_pk(subject), schema.SK: keys.PROFILE_SK})).get("Item"))
        if not profile or not profile.get("guest"):
            raise Forbidden("no such guest", code="token_invalid")
        if profile.get("merged_into"):
            raise Forbidden("this guest was merged into a signed-in customer", code="guest_merged")
        return self._token(subject, renewed=True)

    def _token(self, customer_id: str, renewed: bool) -> dict[str, Any]:
        now = int(self._clock())
        expires_at = now + self._settings.token_ttl_seconds
        token = jwt.encode({"sub": customer_id, "name": GUEST_NAME, "guest": True, "iat": now, "exp": expires_at},
                           self._secret("CUSTOMER_TOKEN_SECRET"), algorithm=ALGORITHM)
        return {"token": token, "customer_id": customer_id, "expires_at": expires_at, "renewed": renewed}

    def _count(self, address: str) -> None:
        """One more new guest from this address in the current window; TooManyRequests past the limit."""
        window_seconds = self._settings.rate_window_seconds
        now = self._clock()
        window = int(now // window_seconds)
        digest = hmac.new(self._secret("PSEUDONYM_KEY").encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
        pk, sk = keys.guest_rate_key(digest, window)
        try:
            self._db.update_item(
                TableName=self._table, Key=encode({schema.PK: pk, schema.SK: sk}),
                UpdateExpression="ADD issued :one SET #ttl = if_not_exists(#ttl, :ttl)",
                ConditionExpression="attribute_not_exists(issued) OR issued < :limit",
                ExpressionAttributeNames={"#ttl": schema.TTL_ATTRIBUTE},
                ExpressionAttributeValues={":one": encode_value(1), ":limit": encode_value(self._settings.rate_limit),
                                           ":ttl": encode_value((window + 2) * window_seconds)},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                retry_after = int((window + 1) * window_seconds - now) + 1
                raise TooManyRequests("too many new guest chats from this address; try again later",
                                      details={"retry_after_seconds": retry_after}) from exc
            raise
