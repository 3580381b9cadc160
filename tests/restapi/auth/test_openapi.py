"""The auth and user operations are documented: summaries, schemas with examples, errors, security."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

PUBLIC = {"/api/v1/auth/signup", "/api/v1/auth/login", "/api/v1/auth/refresh", "/.well-known/jwks.json",
          "/api/v1/auth/password-reset/request", "/api/v1/auth/password-reset/confirm"}


def _resolve(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[1]
    schema: dict[str, Any] = spec["components"]["schemas"][name]
    return schema


async def test_every_auth_and_user_operation_is_documented(client: TestClient) -> None:
    spec = await (await client.get("/docs/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    ops = [(path, method, op) for path, item in spec["paths"].items()
           if path.startswith(("/api/v1/auth", "/api/v1/user", "/.well-known")) for method, op in item.items()]
    assert len(ops) == 16
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert any(code.startswith("2") for code in op["responses"]), where
        if path != "/.well-known/jwks.json":
            assert "Error" in str(op["responses"]), where
        assert ("security" in op) == (path not in PUBLIC), where
        if "requestBody" in op:
            assert op["requestBody"]["required"] is True, where
            body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
            assert body.get("additionalProperties") is False, where  # unknown fields are refused
            assert all("example" in p or "$ref" in str(p) or p.get("type") == "object"
                       for p in body["properties"].values()), where
