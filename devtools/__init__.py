"""Development tools: never imported by a service (tests/test_imports.py checks it)."""
