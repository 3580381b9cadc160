"""WebSocket push nodes: topic subscriptions, snapshot + delta fan-out, gapless resume."""
