"""RS256 access tokens with a ``kid`` header, a key ring that rotates, and the JWKS document.

Keys are PEM files ``<kid>.pem`` in one folder; every key in the folder verifies, and the newest
(by name, so use sortable kids such as dates) signs. Keys are parsed once at load: signing with a
parsed key costs ~0.3 ms, reparsing the PEM each time ~40 ms.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.errors import Unauthorized

ALGORITHM = "RS256"
ISSUER = "wagerbabe"


def generate_key_file(keys_dir: Path, kid: str | None = None) -> Path:
    """Write a new 2048-bit RSA private key as ``<kid>.pem`` (mode 0600); kid defaults to a timestamp."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    kid = kid or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = keys_dir / f"{kid}.pem"
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return path


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Parsed private keys by kid; ``signing_kid`` signs, all verify."""

    private: dict[str, rsa.RSAPrivateKey]
    signing_kid: str

    @classmethod
    def load(cls, keys_dir: Path, *, create: bool = False) -> KeyRing:
        """Load every ``*.pem`` in ``keys_dir``; with ``create``, make a first key when there is none."""
        paths = sorted(keys_dir.glob("*.pem")) if keys_dir.is_dir() else []
        if not paths:
            if not create:
                raise FileNotFoundError(f"no signing keys (*.pem) in {keys_dir}")
            paths = [generate_key_file(keys_dir)]
        keys: dict[str, rsa.RSAPrivateKey] = {}
        for path in paths:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError(f"{path}: not an RSA private key")
            keys[path.stem] = key
        return cls(keys, paths[-1].stem)

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign ``claims`` with the current key (``kid`` in the header)."""
        return jwt.encode(claims, self.private[self.signing_kid], algorithm=ALGORITHM,
                          headers={"kid": self.signing_kid})

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWKS document."""
        out = []
        for kid, key in self.private.items():
            jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
            out.append(jwk)
        return {"keys": out}


class Verifier:
    """Verifies RS256 tokens against public keys by kid (from a KeyRing or a fetched JWKS).

    A phone sends the same access token with every request for up to an hour, so the claims of
    tokens that verified are kept (up to ``cache_size``, oldest dropped first) and a repeat costs a
    dict lookup and the expiry check instead of an RSA verification (~0.15 ms of CPU). The key is
    the whole token, so only a byte-identical token hits; revocation is not cached here (callers
    check the denylist on every request).
    """

    def __init__(self, public: dict[str, Any], cache_size: int = 10_000) -> None:
        self.public = public
        self.cache_size = cache_size
        self._verified: dict[tuple[str, str], dict[str, Any]] = {}

    @classmethod
    def from_ring(cls, ring: KeyRing) -> Verifier:
        return cls({kid: key.public_key() for kid, key in ring.private.items()})

    @classmethod
    def from_jwks(cls, doc: dict[str, Any]) -> Verifier:
        return cls({k["kid"]: RSAAlgorithm.from_jwk(k) for k in doc.get("keys", []) if "kid" in k})

    def verify(self, token: str, *, typ: str = "access") -> dict[str, Any]:
        """The token's claims, or Unauthorized saying why it is not acceptable."""
        cached = self._verified.get((token, typ))
        if cached is not None:
            if cached["exp"] <= time.time():  # the rule PyJWT applies (no leeway)
                del self._verified[(token, typ)]
                raise Unauthorized("Token expired", code="token_expired")
            return dict(cached)
        claims = self._verify(token, typ)
        if isinstance(claims["exp"], int | float):
            if len(self._verified) >= self.cache_size:
                del self._verified[next(iter(self._verified))]  # dicts keep insertion order: the oldest
            self._verified[(token, typ)] = claims
        return dict(claims)

    def _verify(self, token: str, typ: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthorized("Malformed token", code="invalid_token") from None
        key = self.public.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthorized("Token signed with an unknown key", code="invalid_token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Token expired", code="token_expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("Invalid token", code="invalid_token") from None
        if claims.get("typ", "access") != typ:
            raise Unauthorized("Wrong token type", code="invalid_token")
        return claims


def access_claims(user_id: int, role: str, agent_id: int | None, ttl: int, **extra: Any) -> dict[str, Any]:
    """Claims of an access token: sub, role, agent_id, jti, iat, exp."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(user_id),
        "role": role,
        "agent_id": agent_id,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + ttl,
        "typ": "access",
    }
    claims.update(extra)
    return claims
