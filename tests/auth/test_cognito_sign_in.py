"""Agents sign in with the Cognito pool of infra/agents-auth.yaml (moto's cognito-idp in server mode,
as on the local stack) and use its access tokens on REST, on the metrics API and on the socket."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "agents"))
from desk import Desk

from infra.agents_auth import create_user, provision_agent_pool

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def pool_desk(lam_server, management_api, aws_server, moto_server, monkeypatch) -> Any:
    pool = provision_agent_pool(aws_server, "local")
    for username, group in (("amy", "agent"), ("sam", "supervisor"), ("ada", "admin"), ("nogroup", None)):
        if group:
            create_user(aws_server, pool, username, PASSWORD, group)
        else:
            cognito = aws_server.client("cognito-idp")
            cognito.admin_create_user(UserPoolId=pool.user_pool_id, Username=username, MessageAction="SUPPRESS")
            cognito.admin_set_user_password(UserPoolId=pool.user_pool_id, Username=username, Password=PASSWORD,
                                            Permanent=True)
    for name, value in pool.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COGNITO_JWKS_URL", f"{moto_server}/{pool.user_pool_id}/.well-known/jwks.json")
    monkeypatch.setenv("BOT_ENABLED", "false")
    from chalicelib import services as composition

    composition.reset()
    desk = Desk(lam_server, management_api, aws_server)
    desk.pool = pool
    desk.cognito = aws_server.client("cognito-idp")
    yield desk
    desk.close()


def sign_in(desk: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    answer = desk.cognito.initiate_auth(ClientId=desk.pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": username, "PASSWORD": password})
    return answer["AuthenticationResult"]


def test_provisioning_follows_the_template_and_is_idempotent(aws_server):
    first = provision_agent_pool(aws_server, "local")
    again = provision_agent_pool(aws_server, "local")
    assert first == again
    cognito = aws_server.client("cognito-idp")
    groups = {g["GroupName"]: g["Precedence"] for g in cognito.list_groups(UserPoolId=first.user_pool_id)["Groups"]}
    assert groups == {"admin": 10, "supervisor": 20, "agent": 30}
    client = cognito.describe_user_pool_client(UserPoolId=first.user_pool_id, ClientId=first.client_id)
    assert "ALLOW_USER_PASSWORD_AUTH" in client["UserPoolClient"]["ExplicitAuthFlows"]
    assert "ClientSecret" not in client["UserPoolClient"]


def test_access_token_works_on_rest_with_the_group_role(pool_desk):
    pool_desk.agent("amy", skills=["billing"])
    amy = sign_in(pool_desk, "amy")["AccessToken"]
    status, work = pool_desk.rest("GET", "/agent/work", amy)
    assert status == 200 and work["agent"]["agent_id"] == "amy"
    status, _ = pool_desk.rest("GET", "/supervisor/queue", amy)
    assert status == 403
    sam = sign_in(pool_desk, "sam")["AccessToken"]
    assert pool_desk.rest("GET", "/supervisor/queue", sam)[0] == 200
    ada = sign_in(pool_desk, "ada")["AccessToken"]
    assert pool_desk.rest("PUT", "/admin/teams/billing", ada, {"name": "Billing"})[0] == 200


def test_metrics_api_takes_cognito_supervisors_only(pool_desk):
    def live(token: str) -> int:
        response = pool_desk.client.http.get("/metrics/live", headers={"Authorization": f"Bearer {token}"})
        return response.status_code

    assert live(sign_in(pool_desk, "sam")["AccessToken"]) == 200
    assert live(sign_in(pool_desk, "amy")["AccessToken"]) == 403


def test_id_token_and_user_without_group_are_refused(pool_desk):
    tokens = sign_in(pool_desk, "sam")
    status, body = pool_desk.rest("GET", "/supervisor/queue", tokens["IdToken"])
    assert (status, body["code"]) == (403, "token_invalid")
    status, body = pool_desk.rest("GET", "/agent/work", sign_in(pool_desk, "nogroup")["AccessToken"])
    assert (status, body["code"]) == (403, "role_missing")


def test_socket_connect_as_agent_with_cognito_token(pool_desk):
    pool_desk.agent("amy", skills=["billing"])
    amy = sign_in(pool_desk, "amy")["AccessToken"]
    assert pool_desk.lam.connect("ag-amy", amy, **{"as": "agent"})["statusCode"] == 200
    pool_desk.lam.send("ag-amy", {"action": "setStatus", "status": "online"})
    assert pool_desk.api.of_type("ag-amy", "status")[-1]["status"] == "online"
    refused = pool_desk.lam.connect("ag-x", sign_in(pool_desk, "amy")["IdToken"], **{"as": "agent"})
    assert refused["statusCode"] == 403 and json.loads(refused["body"])["code"] == "token_invalid"


def test_refreshed_access_token_is_accepted(pool_desk):
    tokens = sign_in(pool_desk, "sam")
    fresh = pool_desk.cognito.initiate_auth(ClientId=pool_desk.pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert pool_desk.rest("GET", "/supervisor/agents", fresh["AuthenticationResult"]["AccessToken"])[0] == 200


def test_company_hs256_agent_tokens_still_work_beside_cognito(pool_desk):
    assert pool_desk.rest("GET", "/supervisor/queue", pool_desk.admin)[0] == 200
    assert os.environ["COGNITO_USER_POOL_ID"]
