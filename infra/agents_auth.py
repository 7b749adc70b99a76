"""The agents' Cognito user pool of `infra/agents-auth.yaml`, created through the Cognito API.

In AWS the template is deployed as the stack `cs-platform-<stage>-agents-auth` (`infra/deploy.py`).
moto's CloudFormation has no `AWS::Cognito::*` resources (it logs "No Moto CloudFormation support"
and creates nothing), so the local stack and the tests create the same pool, groups and app client
from the same template with the `cognito-idp` calls CloudFormation would make. Only properties that
moto understands and that change behaviour here are passed; the template stays the one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.provision import APP_NAME, INFRA_DIR, load_template

AUTH_TEMPLATE = INFRA_DIR / "agents-auth.yaml"
ROLE_GROUPS = ("agent", "supervisor", "admin")


@dataclass(frozen=True)
class AgentPool:
    user_pool_id: str
    client_id: str
    region: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def environment(self) -> dict[str, str]:
        """What the functions read (in AWS from SSM parameters the template writes)."""
        return {"COGNITO_USER_POOL_ID": self.user_pool_id, "COGNITO_CLIENT_IDS": self.client_id}


def _sub(value: Any, names: dict[str, str]) -> str:
    """The `!Sub "${AppName}-${Stage}-…"` strings of the template, resolved."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    for key, replacement in names.items():
        text = text.replace("${" + key + "}", replacement)
    return text


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def provision_agent_pool(session: Any, stage: str, app_name: str = APP_NAME) -> AgentPool:
    """Create (or find) the stage's agent pool, its role groups and the console client."""
    template = load_template(AUTH_TEMPLATE)
    names = {"AppName": app_name, "Stage": stage}
    cognito = session.client("cognito-idp")
    pool_props = _of_type(template, "AWS::Cognito::UserPool")[0]
    pool_name = _sub(pool_props["UserPoolName"], names)
    existing = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == pool_name]
    if existing:
        pool_id = existing[0]["Id"]
    else:
        password = pool_props["Policies"]["PasswordPolicy"]
        pool_id = cognito.create_user_pool(
            PoolName=pool_name,
            Policies={"PasswordPolicy": password},
            AdminCreateUserConfig=pool_props["AdminCreateUserConfig"],
            UsernameConfiguration=pool_props["UsernameConfiguration"],
            AutoVerifiedAttributes=pool_props["AutoVerifiedAttributes"],
            AccountRecoverySetting=pool_props["AccountRecoverySetting"],
            MfaConfiguration=pool_props["MfaConfiguration"],
        )["UserPool"]["Id"]
        for group in _of_type(template, "AWS::Cognito::UserPoolGroup"):
            cognito.create_group(UserPoolId=pool_id, GroupName=group["GroupName"],
                                 Description=group["Description"], Precedence=group["Precedence"])
    client_props = _of_type(template, "AWS::Cognito::UserPoolClient")[0]
    client_name = _sub(client_props["ClientName"], names)
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    found = [c["ClientId"] for c in clients if c["ClientName"] == client_name]
    client_id = found[0] if found else _create_client(cognito, pool_id, client_name, client_props)
    return AgentPool(user_pool_id=pool_id, client_id=client_id, region=session.region_name)


def _create_client(cognito: Any, pool_id: str, name: str, props: dict[str, Any]) -> str:
    return cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=name, GenerateSecret=props["GenerateSecret"],
        ExplicitAuthFlows=props["ExplicitAuthFlows"], PreventUserExistenceErrors=props["PreventUserExistenceErrors"],
        EnableTokenRevocation=props["EnableTokenRevocation"], AccessTokenValidity=props["AccessTokenValidity"],
        IdTokenValidity=props["IdTokenValidity"], RefreshTokenValidity=props["RefreshTokenValidity"],
        TokenValidityUnits=props["TokenValidityUnits"],
    )["UserPoolClient"]["ClientId"]


def create_user(session: Any, pool: AgentPool, username: str, password: str, group: str,
                email: str | None = None) -> None:
    """An invited desk member with a permanent password, in one role group (idempotent)."""
    if group not in ROLE_GROUPS:
        raise ValueError(f"group must be one of {ROLE_GROUPS}")
    cognito = session.client("cognito-idp")
    try:
        cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username=username)
    except cognito.exceptions.UserNotFoundException:
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}] if email else []
        cognito.admin_create_user(UserPoolId=pool.user_pool_id, Username=username, UserAttributes=attributes,
                                  MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool.user_pool_id, Username=username, Password=password,
                                    Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool.user_pool_id, Username=username, GroupName=group)
