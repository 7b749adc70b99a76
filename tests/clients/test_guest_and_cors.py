"""POST /auth/guest (guest tokens for the widget) and CORS for the configured origins only."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from chalice.test import Client
from support import CUSTOMER_SECRET, customer_token

from chalicelib.auth.tokens import verify_customer
from chalicelib.clients.cors import CorsPolicy
from chalicelib.clients.guest import GuestSettings, GuestTokens, TooManyRequests
from chalicelib.errors import Forbidden, NotFound
from chalicelib.store import keys

ROOT = Path(__file__).resolve().parents[2]
SHOP = "https://shop.example.com"


@pytest.fixture
def rest(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Any]:
    monkeypatch.setenv("GUEST_CHAT_ENABLED", "true")
    monkeypatch.setenv("GUEST_RATE_LIMIT", "3")
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{SHOP}, http://127.0.0.1:8080")
    request.getfixturevalue("aws")
    import app as app_module

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        yield client


def post_guest(rest: Any, **headers: str) -> Any:
    return rest.http.post("/auth/guest", headers={"Content-Type": "application/json", **headers}, body="{}")


def tokens(table: Any, clock: Any = None, **settings: Any) -> GuestTokens:
    import boto3

    secrets = {"CUSTOMER_TOKEN_SECRET": CUSTOMER_SECRET, "PSEUDONYM_KEY": "k" * 32}
    return GuestTokens(boto3.client("dynamodb", region_name="us-east-1"), os.environ["TABLE_NAME"], secrets.__getitem__,
                       GuestSettings(enabled=True, **settings), **({"clock": clock} if clock else {}))


def test_guest_token_is_a_short_lived_customer_token_for_a_new_guest(rest: Any, table: Any) -> None:
    response = post_guest(rest)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.body)
    claims = verify_customer(body["token"], CUSTOMER_SECRET)
    assert claims.sub == body["customer_id"] and claims.sub.startswith("gst_")
    assert 3500 <= claims.exp - jwt.decode(body["token"], options={"verify_signature": False})["iat"] <= 3600
    profile = table.get_item(Key={"pk": keys.customer_pk(claims.sub), "sk": keys.PROFILE_SK})["Item"]
    assert profile["guest"] is True and profile["name"] == "Guest"
    assert json.loads(post_guest(rest).body)["customer_id"] != claims.sub  # every call: a new guest


def test_guest_tokens_are_rate_limited_per_address(rest: Any, table: Any) -> None:
    assert [post_guest(rest).status_code for _ in range(3)] == [200, 200, 200]
    refused = post_guest(rest)
    assert refused.status_code == 429
    assert json.loads(refused.body)["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    stored = table.scan()["Items"]
    counters = [i for i in stored if i["pk"].startswith("GUESTRATE#")]
    assert len(counters) == 1 and counters[0]["issued"] == 3 and "expires_at" in counters[0]
    assert "127.0.0.1" not in json.dumps(stored, default=str)  # the address is kept only as a keyed hash


def test_the_limit_counts_each_address_and_each_window_apart(aws: Any, table: Any) -> None:
    now = [time.time()]
    guest = tokens(table, clock=lambda: now[0], rate_limit=2, rate_window_seconds=600)
    for _ in range(2):
        guest.issue("203.0.113.7", None)
    with pytest.raises(TooManyRequests):
        guest.issue("203.0.113.7", None)
    guest.issue("2001:db8::1", None)  # another address
    now[0] += 600
    guest.issue("203.0.113.7", None)  # the next window


def test_a_guest_renews_its_own_token_and_keeps_its_id(rest: Any) -> None:
    first = json.loads(post_guest(rest).body)
    renewed = post_guest(rest, Authorization=f"Bearer {first['token']}")
    assert renewed.status_code == 200
    body = json.loads(renewed.body)
    assert body["customer_id"] == first["customer_id"] and body["renewed"] is True
    for _ in range(5):  # renewals are not new guests: no rate limit
        assert post_guest(rest, Authorization=f"Bearer {body['token']}").status_code == 200


def test_renewal_refuses_other_tokens_old_tokens_and_merged_guests(aws: Any, table: Any) -> None:
    now = [time.time()]
    guest = tokens(table, clock=lambda: now[0], renew_grace_seconds=3600)
    with pytest.raises(Forbidden) as refused:
        guest.issue("203.0.113.7", f"Bearer {customer_token('alice')}")  # a real customer's token
    assert refused.value.code == "not_a_guest"
    with pytest.raises(Forbidden):
        guest.issue("203.0.113.7", "Bearer not-a-jwt")
    forged = jwt.encode({"sub": "gst_X", "guest": True, "exp": int(now[0]) + 60},
                        "a-wrong-secret-of-thirty-two-bytes!!", algorithm="HS256")
    with pytest.raises(Forbidden):
        guest.issue("203.0.113.7", f"Bearer {forged}")
    issued = guest.issue("203.0.113.7", None)
    now[0] += 3600 + 3601  # expired for longer than the grace
    with pytest.raises(Forbidden) as old:
        guest.issue("203.0.113.7", f"Bearer {issued['token']}")
    assert old.value.code == "token_expired"
    fresh = guest.issue("203.0.113.7", None)
    table.update_item(Key={"pk": keys.customer_pk(fresh["customer_id"]), "sk": keys.PROFILE_SK},
                      UpdateExpression="SET merged_into = :c", ExpressionAttributeValues={":c": "cus_real"})
    with pytest.raises(Forbidden) as merged:
        guest.issue("203.0.113.7", f"Bearer {fresh['token']}")
    assert merged.value.code == "guest_merged"


def test_guest_chat_is_off_unless_enabled(aws: Any, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUEST_CHAT_ENABLED", raising=False)
    import app as app_module

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        response = client.http.post("/auth/guest", headers={"Content-Type": "application/json"}, body="{}")
    assert response.status_code == 404
    assert json.loads(response.body)["code"] == "guest_chat_disabled"
    with pytest.raises(NotFound):
        GuestTokens(None, "t", lambda name: "x", GuestSettings()).issue("1.2.3.4", None)


def test_cors_answers_configured_origins_only(rest: Any) -> None:
    allowed = post_guest(rest, Origin=SHOP)
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in allowed.headers["Vary"]
    other = post_guest(rest, Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = rest.http.request("OPTIONS", "/auth/guest", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    refused = rest.http.request("OPTIONS", "/auth/guest", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    health = rest.http.get("/health", headers={"Origin": SHOP})  # every REST answer, for listed origins
    assert health.headers["Access-Control-Allow-Origin"] == SHOP


def test_cors_policy_parsing() -> None:
    policy = CorsPolicy.from_env({"CORS_ALLOWED_ORIGINS": " https://a.example/ ,*, http://localhost:8080,,"})
    assert policy.origins == {"https://a.example", "http://localhost:8080"}
    assert not CorsPolicy.from_env({}).allows("https://a.example")
    assert not policy.allows(None) and not policy.allows("https://a.example.evil")
