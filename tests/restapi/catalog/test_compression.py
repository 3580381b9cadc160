"""JSON answers go gzipped when the client accepts it and they are big enough; secrets never do."""

from __future__ import annotations

import gzip

import orjson

from restapi.compression import MIN_BYTES, compressible
from tests.restapi.catalog.conftest import Filled


async def test_the_odds_list_goes_gzipped_and_inflates_to_the_plain_answer(filled: Filled) -> None:
    url = "/api/v1/betting/odds?limit=50"
    plain = await filled.client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status == 200 and "Content-Encoding" not in plain.headers
    body = await plain.read()
    packed = await filled.client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}, auto_decompress=False)
    assert packed.status == 200
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    raw = await packed.read()
    assert orjson.loads(gzip.decompress(raw))["events"] == orjson.loads(body)["events"]
    assert len(body) > 20_000 and len(raw) * 4 < len(body)  # the board's list shrinks more than fourfold


async def test_small_answers_and_errors_stay_plain(filled: Filled) -> None:
    small = await filled.client.get("/api/v1/betting/odds?limit=1&league=nope_nope",
                                    headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert small.status == 404 and "Content-Encoding" not in small.headers
    assert orjson.loads(await small.read())["error"]


def test_only_big_json_outside_the_auth_routes_is_compressible() -> None:
    assert compressible("/api/v1/betting/bets", "application/json", MIN_BYTES, "gzip")
    assert not compressible("/api/v1/betting/bets", "application/json", MIN_BYTES - 1, "gzip")
    assert not compressible("/api/v1/betting/bets", "application/json", MIN_BYTES, "identity")
    assert not compressible("/api/v1/betting/bets", "text/html", MIN_BYTES, "gzip")
    assert not compressible("/api/v1/auth/refresh", "application/json", 10 * MIN_BYTES, "gzip")
    assert not compressible("/api/v1/auth/push-ticket", "application/json", 10 * MIN_BYTES, "GZIP")
