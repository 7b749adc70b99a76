"""Tickets with SLA policies, breach detection, reminders and an audit trail."""
