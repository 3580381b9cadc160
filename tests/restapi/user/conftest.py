"""The user tests share the auth tests' fixtures (real app, small demo book, real SMTP)."""

from __future__ import annotations

from tests.restapi.auth.conftest import auth_env, client, users

__all__ = ["auth_env", "client", "users"]
