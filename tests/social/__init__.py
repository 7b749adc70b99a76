"""Social channels wired into the platform: webhooks, outbound delivery, unified identity."""
