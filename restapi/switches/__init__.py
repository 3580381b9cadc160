"""Kill switches and feature flags: stored in PostgreSQL, applied in memory by every process."""
