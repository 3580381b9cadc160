"""Betting: slip, quotes, idempotent bet placement, history, grading."""
