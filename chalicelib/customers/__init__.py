"""Customers across channels: identity look-up, profile, timeline and explicit merges."""
