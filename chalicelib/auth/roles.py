"""The one definition of who is who among the people who work the desk."""

from __future__ import annotations

from typing import Final

AGENT: Final = "agent"
SUPERVISOR: Final = "supervisor"
ADMIN: Final = "admin"

ANY_ROLE: Final = (AGENT, SUPERVISOR, ADMIN)
SUPERVISORS: Final = (SUPERVISOR, ADMIN)  # the queue, every agent's load, KPIs, merges
ADMINS: Final = (ADMIN,)  # agents, teams, desk settings, the knowledge base
