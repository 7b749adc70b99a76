"""Signed webhook requests used once: a nonce that comes back with other content is refused.

A platform whose signature covers a timestamp and a nonce (WeChat: `timestamp#nonce`, see
`WeChatAdapter.replay_token`) is checked here after its signature, freshness and body were
accepted and before anything is stored: one conditional PutItem of `NONCE#<channel>#<token>`
holding the SHA-256 of the raw body, kept (TTL) for twice the freshness window. The same token
with the same bytes is the platform's own retry of one delivery (WeChat retries after 5 s): it
passes on to the message dedup, which answers it as a duplicate, so a replay within the window
changes nothing. The same token with other bytes (in plaintext mode the signature does not
cover the body; in safe mode only the token's holder can re-sign) is refused with 403.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from chalicelib import ids
from chalicelib.channels.errors import SignatureError
from chalicelib.store import keys, schema
from chalicelib.store.codec import encode, encode_value
from chalicelib.store.table import ConditionFailed, Table

if TYPE_CHECKING:
    from chalicelib.channels.base import Adapter
    from chalicelib.channels.models import WebhookRequest

NONCE_TTL_SECONDS = 2 * 5 * 60


class NonceStore:
    def __init__(self, table: Table, ttl_seconds: int = NONCE_TTL_SECONDS) -> None:
        self._table = table
        self._ttl = ttl_seconds

    def claim(self, channel: str, token: str, body: bytes) -> bool:
        """Record `token` for these bytes; False if it was already used for other bytes."""
        digest = hashlib.sha256(body).hexdigest()
        item = {schema.PK: keys.webhook_nonce_pk(channel, token), schema.SK: keys.NONCE_SK, "body_sha256": digest,
                "channel": channel, "first_ms": ids.now_ms(), schema.TTL_ATTRIBUTE: ids.now_ms() // 1000 + self._ttl}
        try:
            self._table.put_item(Item=encode(item), ConditionExpression="attribute_not_exists(pk) OR body_sha256 = :h",
                                 ExpressionAttributeValues={":h": encode_value(digest)})
        except ConditionFailed:
            return False
        return True


class ReplayGuard:
    """Refuses a reused replay token of adapters that have one (`adapter.replay_token(request)`)."""

    def __init__(self, nonces: NonceStore) -> None:
        self._nonces = nonces

    def check(self, channel: str, adapter: Adapter, request: WebhookRequest) -> None:
        token_of = getattr(adapter, "replay_token", None)
        token = token_of(request) if token_of is not None else None
        if token and not self._nonces.claim(channel, token, request.body):
            raise SignatureError("nonce already used")
