"""Cognito access tokens: every way a token can be wrong is refused, the right one gives the role."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from support import AGENT_SECRET, agent_token

from chalicelib.auth.cognito import AgentTokenVerifier, CognitoVerifier, issuer_of
from chalicelib.errors import Forbidden, Unauthorized

REGION, POOL, CLIENT = "eu-west-1", "eu-west-1_TestPool1", "console-client-1"


def _key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = _key(), _key()


def _jwks(key: Any, kid: str = "k1") -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]}


class Jwks:
    """The pool's JWKS endpoint: counts fetches, can rotate."""

    def __init__(self, key: Any = KEY, kid: str = "k1") -> None:
        self.document, self.fetches = _jwks(key, kid), 0

    def __call__(self, url: str) -> dict[str, Any]:
        assert url == f"{issuer_of(REGION, POOL)}/.well-known/jwks.json"
        self.fetches += 1
        return self.document


def cognito_token(*, key: Any = KEY, kid: str = "k1", groups: list[str] | None = ("agent",), token_use: str = "access",
                  client_id: str = CLIENT, issuer: str | None = None, ttl: int = 3600, username: str = "amy",
                  alg: str = "RS256") -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer or issuer_of(REGION, POOL), "sub": "3f1c-uuid", "token_use": token_use,
                              "iat": now, "auth_time": now, "exp": now + ttl, "jti": "j", "username": username}
    claims["client_id" if token_use == "access" else "aud"] = client_id
    if groups is not None:
        claims["cognito:groups"] = list(groups)
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def jwks() -> Jwks:
    return Jwks()


@pytest.fixture
def verifier(jwks: Jwks) -> CognitoVerifier:
    return CognitoVerifier(REGION, POOL, [CLIENT], fetch=jwks)


def test_access_token_of_the_pool_gives_username_and_role(verifier):
    claims = verifier.verify(cognito_token(groups=["agent"]))
    assert (claims.sub, claims.role) == ("amy", "agent")


@pytest.mark.parametrize(("groups", "role"), [(["agent", "supervisor"], "supervisor"), (["admin", "agent"], "admin"),
                                              (["supervisor"], "supervisor"), (["vip-team", "agent"], "agent")])
def test_the_highest_role_group_wins(verifier, groups, role):
    assert verifier.verify(cognito_token(groups=groups)).role == role


def test_jwks_is_fetched_once_per_container(verifier, jwks):
    for _ in range(5):
        verifier.verify(cognito_token())
    assert jwks.fetches == 1


@pytest.mark.parametrize(("token", "code"), [
    (lambda: cognito_token(key=OTHER_KEY), "token_invalid"),                       # bad signature
    (lambda: cognito_token(issuer=issuer_of(REGION, "eu-west-1_Other")), "token_invalid"),  # another pool
    (lambda: cognito_token(issuer=issuer_of("us-east-1", POOL)), "token_invalid"),  # another region
    (lambda: cognito_token(client_id="someone-elses-app"), "token_invalid"),        # wrong app client
    (lambda: cognito_token(token_use="id"), "token_invalid"),                       # an ID token
    (lambda: cognito_token(ttl=-120), "token_expired"),                             # expired (beyond the leeway)
    (lambda: cognito_token(groups=None), "role_missing"),                           # no group at all
    (lambda: cognito_token(groups=["marketing"]), "role_missing"),                  # no role group
    (lambda: cognito_token(kid="unknown"), "token_invalid"),                        # key not in the JWKS
    (lambda: cognito_token() + "x", "token_invalid"),                               # tampered
    (lambda: "not.a.jwt", "token_invalid"),
], ids=["bad-signature", "other-pool", "other-region", "other-client", "id-token", "expired", "no-group",
        "no-role-group", "unknown-kid", "tampered", "garbage"])
def test_every_wrong_token_is_refused(verifier, token, code):
    with pytest.raises(Forbidden) as exc:
        verifier.verify(token())
    assert exc.value.code == code


def test_hs256_token_is_never_checked_against_the_jwks(verifier):
    # alg confusion: a token "signed" with the public key as an HMAC secret must not pass
    claims = {"sub": "amy", "exp": int(time.time()) + 60, "token_use": "access"}
    forged = jwt.encode(claims, "whatever-hmac-secret-that-is-long-enough-0001", algorithm="HS256")
    with pytest.raises(Forbidden):
        verifier.verify(forged)


def test_missing_token_is_unauthorized(verifier):
    with pytest.raises(Unauthorized):
        verifier.verify(None)


def test_rotated_keys_are_refetched_but_not_for_every_forged_kid(jwks):
    now = [1000.0]
    verifier = CognitoVerifier(REGION, POOL, [CLIENT], fetch=jwks, clock=lambda: now[0], refetch_seconds=300)
    verifier.verify(cognito_token())
    for _ in range(10):  # unknown key ids within the refetch interval: no new fetch
        with pytest.raises(Forbidden):
            verifier.verify(cognito_token(kid="forged"))
    assert jwks.fetches == 1
    jwks.document = _jwks(OTHER_KEY, "k2")  # the pool rotates its key
    now[0] += 301
    assert verifier.verify(cognito_token(key=OTHER_KEY, kid="k2")).sub == "amy"
    assert jwks.fetches == 2


def test_agent_verifier_accepts_both_kinds(verifier):
    both = AgentTokenVerifier(lambda: AGENT_SECRET, verifier)
    assert both.verify(cognito_token(groups=["supervisor"])).role == "supervisor"
    assert both.verify(agent_token("sso-7", "admin")).sub == "sso-7"
    with pytest.raises(Forbidden):
        both.verify(agent_token("sso-7", "admin", secret="not-the-secret-0123456789abcdef-xyz"))


def test_without_a_pool_only_hs256_is_accepted():
    hs_only = AgentTokenVerifier(lambda: AGENT_SECRET, None)
    assert hs_only.verify(agent_token("amy")).sub == "amy"
    with pytest.raises(Forbidden):
        hs_only.verify(cognito_token())
