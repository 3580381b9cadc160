"""The REST API: auth, catalog, betting, agent hub, user; OpenAPI at /docs; background jobs."""
