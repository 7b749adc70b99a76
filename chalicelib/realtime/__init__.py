"""The WebSocket edge's outgoing side: pushing frames to connections (`notifier`)."""
