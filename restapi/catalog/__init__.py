"""Catalog and odds reads: sports, leagues, the sidebar, odds and events, behind a Redis cache."""
