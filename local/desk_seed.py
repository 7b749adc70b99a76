"""The local stack's desk: the agents' Cognito pool (moto) and four people who can sign in at once.

`make dev` creates the pool of `infra/agents-auth.yaml` in moto's cognito-idp, points the app at it
(`COGNITO_USER_POOL_ID`, `COGNITO_CLIENT_IDS`, and `COGNITO_JWKS_URL`, where moto serves the pool's
keys), creates one admin, one supervisor and two agents with development passwords, and registers
each as an agent (skills, languages, capacity) through the routing store the admin API uses.
`DEV_DESK_PASSWORD` overrides the password; the seeded users are printed with the console URL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

# A development password that satisfies the pool's policy (12+, upper, lower, digit). Never in AWS.
DEV_DESK_PASSWORD = "Desk-Local-2026"


@dataclass(frozen=True)
class DeskMember:
    username: str
    role: str
    name: str
    skills: tuple[str, ...]
    languages: tuple[str, ...]


DESK = (
    DeskMember("ada", "admin", "Ada Admin", ("orders", "refunds"), ("en", "zh")),
    DeskMember("sam", "supervisor", "Sam Supervisor", ("orders", "refunds", "payment"), ("en", "zh")),
    DeskMember("amy", "agent", "Amy Agent", ("orders", "shipping", "returns"), ("en", "zh")),
    DeskMember("bob", "agent", "Bob Agent", ("orders", "refunds", "payment"), ("en",)),
)


def configure_pool(session: Any, moto_url: str, stage: str) -> Any:
    """Create the pool, set the app's environment to it; returns the AgentPool."""
    from infra.agents_auth import provision_agent_pool

    pool = provision_agent_pool(session, stage)
    os.environ.update(pool.environment())
    os.environ["COGNITO_JWKS_URL"] = f"{moto_url}/{pool.user_pool_id}/.well-known/jwks.json"
    return pool


def seed_desk(session: Any, pool: Any, password: str | None = None) -> list[tuple[DeskMember, str]]:
    """The four desk members in the pool and registered as agents; returns (member, password)."""
    from chalicelib import services as composition
    from chalicelib.routing.models import AgentInput
    from infra.agents_auth import create_user

    password = password or os.environ.get("DEV_DESK_PASSWORD") or DEV_DESK_PASSWORD
    store = composition.services().routing_store
    seeded = []
    for member in DESK:
        create_user(session, pool, member.username, password, member.role, email=f"{member.username}@example.com")
        store.put_agent(member.username, AgentInput(name=member.name, skills=list(member.skills),
                                                    languages=list(member.languages), capacity=3, role=member.role))
        seeded.append((member, password))
    return seeded
