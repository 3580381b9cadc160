"""RS256 tokens: kid header, rotation through the key ring, JWKS verification, clear failures."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from shared.errors import Unauthorized
from shared.tokens import KeyRing, Verifier, access_claims, generate_key_file


def test_token_verifies_with_the_ring_and_with_its_jwks(tmp_path: Path) -> None:
    ring = KeyRing.load(tmp_path, create=True)
    token = ring.sign(access_claims(7, "player", 3, ttl=60))
    assert jwt.get_unverified_header(token)["kid"] == ring.signing_kid
    for verifier in (Verifier.from_ring(ring), Verifier.from_jwks(ring.jwks())):
        claims = verifier.verify(token)
        assert (claims["sub"], claims["role"], claims["agent_id"]) == ("7", "player", 3)


def test_rotation_keeps_old_tokens_valid(tmp_path: Path) -> None:
    generate_key_file(tmp_path, "2026a")
    old = KeyRing.load(tmp_path)
    old_token = old.sign(access_claims(1, "agent", None, ttl=60))
    generate_key_file(tmp_path, "2026b")
    new = KeyRing.load(tmp_path)
    assert new.signing_kid == "2026b"
    assert Verifier.from_ring(new).verify(old_token)["sub"] == "1"


def test_expired_foreign_and_garbage_tokens_are_refused(tmp_path: Path) -> None:
    ring = KeyRing.load(tmp_path / "a", create=True)
    other = KeyRing.load(tmp_path / "b", create=True)
    verifier = Verifier.from_ring(ring)
    cases = {
        "token_expired": ring.sign(access_claims(1, "player", 2, ttl=-10)),
        "invalid_token": "not.a.token",
    }
    for code, token in cases.items():
        with pytest.raises(Unauthorized) as err:
            verifier.verify(token)
        assert err.value.code == code
    foreign = other.sign(access_claims(1, "player", 2, ttl=60))
    with pytest.raises(Unauthorized):
        verifier.verify(foreign)
