"""Platform webhooks (inbound) wired into conversations."""
