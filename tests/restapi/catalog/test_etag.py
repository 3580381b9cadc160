"""Pre-encoded cached reads: ETag and 304 on revalidation, a new ETag after odds move, book scoping."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from restapi.app import create_app
from restapi.catalog.cache import Cached, etag_matches
from restapi.config import RestSettings
from restapi.keys import CATALOG_CACHE
from shared.config import load
from tests.helpers import scaled
from tests.restapi.catalog.conftest import Filled
from tests.restapi.catalog.helpers import move_price

READS = ["/api/v1/shared/sports", "/api/v1/shared/sidebar", "/api/v1/shared/sports/basketball/leagues",
         "/api/v1/betting/odds?league=basketball_nba", "/api/v1/betting/odds?sport=soccer&limit=5"]


def test_if_none_match_compares_weakly_and_accepts_lists_and_star() -> None:
    tag = '"0123456789abcdef01234567"'
    assert etag_matches(tag, tag)
    assert etag_matches(f"W/{tag}", tag)
    assert etag_matches(f'"nope", {tag}', tag)
    assert etag_matches(" * ", tag)
    assert not etag_matches('"nope"', tag)
    assert not etag_matches(tag[1:-1], tag)  # unquoted is not the same tag
    assert not etag_matches("", tag)


def test_a_redis_value_round_trips_and_a_foreign_layout_is_refused() -> None:
    entry = Cached.of(b'{"a":[1,2,3]}')
    assert Cached.unpack(entry.pack()) == entry
    assert Cached.of(b'{"a":[1,2,3]}').etag == entry.etag and Cached.of(b"{}").etag != entry.etag
    assert Cached.unpack(b'{"a":[1,2,3]}') is None  # a body without the ETag line (the v1 layout)
    assert Cached.unpack(b'"short"\n{}') is None


@pytest.mark.parametrize("path", READS)
async def test_every_cached_read_answers_304_to_its_etag(filled: Filled, path: str) -> None:
    client = filled.client
    await asyncio.wait_for(client.app[CATALOG_CACHE].ready.wait(), scaled(10))
    first = await client.get(path)
    assert first.status == 200 and first.headers["Content-Type"] == "application/json"
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    body = await first.read()
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    assert again.headers["ETag"] == etag and again.headers["X-Cache"] == "hit"
    other = await client.get(path, headers={"If-None-Match": '"0000000000000000deadbeef"'})
    assert other.status == 200 and await other.read() == body and other.headers["ETag"] == etag


async def test_event_read_answers_304_and_its_etag_is_the_bodys(filled: Filled) -> None:
    client = filled.client
    odds = await (await client.get("/api/v1/betting/odds?league=basketball_nba&limit=1")).json()
    path = f"/api/v1/betting/events/{odds['events'][0]['id']}"
    first = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert first.status == 200 and "Content-Encoding" not in first.headers
    assert first.headers["ETag"] == Cached.of(await first.read()).etag
    assert (await client.get(path, headers={"If-None-Match": first.headers["ETag"],
                                            "Accept-Encoding": "identity"})).status == 304


async def test_a_gzip_client_gets_the_same_body_compressed_once_under_its_own_etag(filled: Filled) -> None:
    """The odds board compressed (190 KB -> ~8 KB) from bytes compressed once per fill, not per request."""
    client = filled.client
    path = "/api/v1/betting/odds?league=basketball_nba"
    plain = await client.get(path, headers={"Accept-Encoding": "identity"})
    zipped = await client.get(path, headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    raw = await zipped.read()
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(raw) == await plain.read() and len(raw) < len(gzip.decompress(raw)) / 4
    tag, plain_tag = zipped.headers["ETag"], plain.headers["ETag"]
    assert tag != plain_tag and tag == plain_tag[:-1] + '-gz"'
    again = await client.get(path, headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert await again.read() == raw  # the memo's bytes, byte for byte
    assert (await client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": tag})).status == 304


async def test_after_odds_move_the_old_etag_gets_the_new_price(filled: Filled) -> None:
    """A revalidating client never keeps a stale figure: the moved price changes the body and its ETag."""
    client = filled.client
    cache = client.app[CATALOG_CACHE]
    await asyncio.wait_for(cache.ready.wait(), scaled(10))
    league = "basketball_nba"
    path = f"/api/v1/betting/odds?league={league}&limit=200"
    old = await client.get(path)
    old_etag = old.headers["ETag"]
    assert (await client.get(path, headers={"If-None-Match": old_etag})).status == 304
    other = await client.get("/api/v1/betting/odds?league=icehockey_nhl")
    moved = await move_price(filled, cache, league)

    fresh = await client.get(path, headers={"If-None-Match": old_etag})
    assert fresh.status == 200 and fresh.headers["ETag"] != old_etag
    event = next(ev for ev in (await fresh.json())["events"] if ev["id"] == moved.event)
    prices = [oc["price"] for bm in event["bookmakers"] if bm["key"] == moved.book for m in bm["markets"]
              if m["key"] == moved.market for oc in m["outcomes"] if oc["name"] == moved.outcome]
    assert prices == [moved.price]
    # Another league's body did not change: its ETag still holds (a new key, the same bytes).
    again = await client.get("/api/v1/betting/odds?league=icehockey_nhl",
                             headers={"If-None-Match": other.headers["ETag"]})
    assert again.status == 304


async def test_book_scoping_is_kept_per_filter_and_normalised(filled: Filled) -> None:
    client = filled.client
    await asyncio.wait_for(client.app[CATALOG_CACHE].ready.wait(), scaled(10))
    base = "/api/v1/betting/odds?league=basketball_nba&limit=3"
    every = await client.get(base)
    one = await client.get(f"{base}&books=draftkings")
    two = await client.get(f"{base}&books=fanduel,draftkings")
    swapped = await client.get(f"{base}&books=draftkings,fanduel")
    keys = {bm["key"] for ev in (await one.json())["events"] for bm in ev["bookmakers"]}
    assert keys == {"draftkings"}
    keys2 = {bm["key"] for ev in (await two.json())["events"] for bm in ev["bookmakers"]}
    assert keys2 == {"draftkings", "fanduel"}
    assert len({bm["key"] for ev in (await every.json())["events"] for bm in ev["bookmakers"]}) > 2
    assert len({every.headers["ETag"], one.headers["ETag"], two.headers["ETag"]}) == 3
    assert swapped.headers["X-Cache"] == "hit" and swapped.headers["ETag"] == two.headers["ETag"]
    # A scoped ETag does not validate the unscoped read.
    assert (await client.get(base, headers={"If-None-Match": one.headers["ETag"]})).status == 200


async def test_a_bad_filter_is_refused_each_time_after_good_reads(filled: Filled) -> None:
    """Parsed filters are remembered per query string; a refused one is not."""
    client = filled.client
    await asyncio.wait_for(client.app[CATALOG_CACHE].ready.wait(), scaled(10))
    assert (await client.get("/api/v1/betting/odds?league=basketball_nba&limit=2")).status == 200
    for _ in range(2):
        err = await client.get("/api/v1/betting/odds?league=basketball_nba&limit=0")
        assert err.status == 422
        assert "limit" in (await err.json())["details"]
    assert (await client.get("/api/v1/betting/odds?league=basketball_nba&limit=2")).headers["X-Cache"] == "hit"


async def test_another_process_reads_the_body_and_etag_from_redis(filled: Filled, aiohttp_client,  # type: ignore[no-untyped-def]
                                                                  base_env: dict[str, str]) -> None:
    other = await aiohttp_client(create_app(load(RestSettings, base_env, port=0)))
    await asyncio.wait_for(other.app[CATALOG_CACHE].ready.wait(), scaled(10))
    await asyncio.wait_for(filled.client.app[CATALOG_CACHE].ready.wait(), scaled(10))
    first = await filled.client.get("/api/v1/shared/sidebar")  # under the generation both nodes agree on
    second = await other.get("/api/v1/shared/sidebar", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status == 304 and second.headers["X-Cache"] == "hit"
