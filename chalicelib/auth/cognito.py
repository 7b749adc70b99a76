"""Verification of the agents' Amazon Cognito access tokens (the console's sign-in).

A token is accepted only if it is RS256-signed by a key of the pool's JWKS, its issuer is the pool
(`https://cognito-idp.<region>.amazonaws.com/<pool id>`), its `client_id` is one of the configured
app clients, `token_use` is `access` (an ID token is for the browser, not for APIs) and it has not
expired. The role comes from `cognito:groups`: admin over supervisor over agent; a user in none of
them has no role and is refused. The agent id is the Cognito `username`, the id an admin registers
with `PUT /admin/agents/{id}`.

The JWKS is fetched once per container and cached; a token signed with a key id the cache does not
know (the pool rotated its keys) refetches it, at most once per `refetch_seconds`, so a flood of
forged key ids cannot turn into a flood of requests to Cognito.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import jwt

from chalicelib.auth.tokens import LEEWAY_SECONDS, AgentClaims
from chalicelib.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from jwt.algorithms import AllowedPublicKeys

ALGORITHM = "RS256"
ROLE_ORDER = ("admin", "supervisor", "agent")


def issuer_of(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def fetch_json(url: str, timeout: float = 3.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        document: dict[str, Any] = json.loads(response.read())
        return document


class CognitoVerifier:
    def __init__(self, region: str, user_pool_id: str, client_ids: Iterable[str], *,
                 jwks_url: str | None = None, fetch: Callable[[str], dict[str, Any]] = fetch_json,
                 clock: Callable[[], float] = time.time, refetch_seconds: float = 300.0) -> None:
        self.issuer = issuer_of(region, user_pool_id)
        self.client_ids = frozenset(c for c in client_ids if c)
        self.jwks_url = jwks_url or f"{self.issuer}/.well-known/jwks.json"
        self._fetch = fetch
        self._clock = clock
        self._refetch_seconds = refetch_seconds
        self._keys: dict[str, AllowedPublicKeys] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    # -- keys -----------------------------------------------------------------------------------

    def _load_keys(self) -> None:
        document = self._fetch(self.jwks_url)
        keys = {}
        for entry in document.get("keys", []):
            if entry.get("kty") == "RSA" and entry.get("kid") and entry.get("use", "sig") == "sig":
                keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=ALGORITHM).key
        self._keys, self._fetched_at = keys, self._clock()

    def _key(self, kid: str | None) -> AllowedPublicKeys:
        with self._lock:
            stale = self._fetched_at is None or self._clock() - self._fetched_at >= self._refetch_seconds
            if self._fetched_at is None or (kid not in self._keys and stale):
                self._load_keys()
            key = self._keys.get(kid or "")
        if key is None:
            raise Forbidden("token is signed with an unknown key", code="token_invalid")
        return key

    # -- tokens ---------------------------------------------------------------------------------

    def verify(self, token: str | None) -> AgentClaims:
        if not token:
            raise Unauthorized("a token is required", code="token_missing")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Forbidden("token is not valid", code="token_invalid") from exc
        if header.get("alg") != ALGORITHM:
            raise Forbidden("token is not valid", code="token_invalid")
        key = self._key(header.get("kid"))
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=self.issuer, leeway=LEEWAY_SECONDS,
                                options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False})
        except jwt.ExpiredSignatureError as exc:
            raise Forbidden("token has expired", code="token_expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise Forbidden("token is from another issuer", code="token_invalid") from exc
        except jwt.InvalidTokenError as exc:
            raise Forbidden("token is not valid", code="token_invalid") from exc
        if claims.get("token_use") != "access":
            raise Forbidden("an access token is required, not an ID token", code="token_invalid")
        if claims.get("client_id") not in self.client_ids:
            raise Forbidden("token was issued to another app client", code="token_invalid")
        groups = claims.get("cognito:groups") or []
        role = next((r for r in ROLE_ORDER if r in groups), None)
        if role is None:
            raise Forbidden("the user is in no agent, supervisor or admin group", code="role_missing")
        username = claims.get("username") or claims["sub"]
        return AgentClaims(sub=username, exp=int(claims["exp"]), role=role, name=None)


class AgentTokenVerifier:
    """Agents' tokens of either kind: Cognito access tokens (RS256) and company-issued HS256 JWTs.

    The header's `alg` only picks which verifier looks at the token; each verifier accepts its own
    algorithm alone, so a token cannot choose to be checked with a weaker key.
    """

    def __init__(self, hs256_secret: Callable[[], str], cognito: CognitoVerifier | None) -> None:
        self._hs256_secret = hs256_secret
        self._cognito = cognito

    def verify(self, token: str | None) -> AgentClaims:
        from chalicelib.auth.tokens import verify_agent

        if token and self._cognito is not None:
            try:
                alg = jwt.get_unverified_header(token).get("alg")
            except jwt.InvalidTokenError as exc:
                raise Forbidden("token is not valid", code="token_invalid") from exc
            if alg == ALGORITHM:
                return self._cognito.verify(token)
        return verify_agent(token, self._hs256_secret())
