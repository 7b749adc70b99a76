"""`make dev` prints the seeded desk; each member signs in with Cognito and works with that token."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import boto3
from websockets.sync.client import connect


def _banner(stack) -> tuple[dict[str, tuple[str, str]], str, str, str]:
    deadline = time.monotonic() + 60  # the banner follows "ready": wait for its last line
    while not any("cognito " in line for line in stack.output) and time.monotonic() < deadline:
        time.sleep(0.1)
    text = "".join(stack.output)
    users = {m[0]: (m[1], m[2]) for m in re.findall(r"sign-in\s+(\S+)\s+(\S+)\s+\((\w+)\)", text)}
    pool, client = re.search(r"cognito\s+pool (\S+)\s+client (\S+)", text).groups()
    aws = re.search(r"aws\s+(http://\S+)", text).group(1)
    return users, pool, client, aws


def _sign_in(aws: str, client: str, username: str, password: str) -> dict:
    cognito = boto3.client("cognito-idp", endpoint_url=aws, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    return cognito.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]


def _get(url: str, token: str) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_banner_lists_one_admin_one_supervisor_two_agents(local_stack):
    users, pool, client, _ = _banner(local_stack)
    roles = sorted(role for _, role in users.values())
    assert roles == ["admin", "agent", "agent", "supervisor"]
    assert pool.startswith("us-east-1_") and client


def test_seeded_members_sign_in_and_get_their_role(local_stack):
    users, _, client, aws = _banner(local_stack)
    by_role = {role: (name, password) for name, (password, role) in users.items()}
    supervisor = _sign_in(aws, client, *by_role["supervisor"])["AccessToken"]
    status, agents = _get(f"{local_stack.http}/supervisor/agents", supervisor)
    assert status == 200
    registered = {a["agent_id"]: a for a in agents}
    assert set(users) <= set(registered)
    assert all(registered[name]["skills"] and registered[name]["languages"] for name in users)
    agent_name, agent_password = by_role["agent"]
    agent = _sign_in(aws, client, agent_name, agent_password)["AccessToken"]
    assert _get(f"{local_stack.http}/supervisor/agents", agent)[0] == 403
    with connect(f"{local_stack.ws}/?token={agent}&as=agent", open_timeout=30) as ws:
        ws.send(json.dumps({"action": "work"}))
        while (frame := json.loads(ws.recv(timeout=30)))["type"] != "work":
            pass
        assert frame["agent"]["agent_id"] == agent_name
