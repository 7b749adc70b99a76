"""Human agents: escalation routing over SQS, the waiting queue, offers and assignments."""
