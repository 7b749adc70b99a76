"""The agent workspace: WebSocket frames and REST for agents, supervisors and admins, CSAT, idle close."""
