"""The odds ingest daemon: polls providers on a tiered schedule, diffs, publishes to Redis Streams."""
