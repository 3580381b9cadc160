"""RS256 tokens: kid header, rotation through the key ring, JWKS verification, clear failures."""

from __future__ import annotations

import time
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


def test_verified_tokens_are_remembered_but_still_expire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = KeyRing.load(tmp_path, create=True)
    verifier = Verifier.from_ring(ring)
    token = ring.sign(access_claims(7, "player", 3, ttl=60))
    first = verifier.verify(token)
    first["role"] = "admin"  # a caller changing its copy must not change what the next caller gets
    again = verifier.verify(token)
    assert again["role"] == "player" and again["jti"] == first["jti"]
    with pytest.raises(Unauthorized) as wrong_type:
        verifier.verify(token, typ="refresh")  # the remembered claims are per type
    assert wrong_type.value.code == "invalid_token"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):
        verifier.verify(tampered)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)
    with pytest.raises(Unauthorized) as expired:
        verifier.verify(token)
    assert expired.value.code == "token_expired"


def test_the_remembered_tokens_are_bounded(tmp_path: Path) -> None:
    ring = KeyRing.load(tmp_path, create=True)
    verifier = Verifier(Verifier.from_ring(ring).public, cache_size=2)
    tokens = [ring.sign(access_claims(i, "player", 3, ttl=60)) for i in range(5)]
    for token in tokens:
        assert verifier.verify(token)["sub"] == str(tokens.index(token))
    assert len(verifier._verified) == 2
    assert verifier.verify(tokens[0])["sub"] == "0"  # dropped, so verified again from the signature
