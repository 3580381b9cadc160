"""Authentication: accounts, sessions, tokens, password reset, and the request principal."""
