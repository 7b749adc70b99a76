"""WebSocket chat: connection lifecycle, client frames, acks and fan-out over API Gateway."""
