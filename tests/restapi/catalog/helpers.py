"""Helpers of the catalog tests: move one price through the real ingest store and stream."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.differ import diff_event
from ingest.publisher import make_batch
from ingest.store import StoreBatch
from restapi.catalog.cache import CatalogCache
from tests.helpers import wait_for
from tests.restapi.catalog.conftest import Filled


@dataclass(frozen=True)
class Moved:
    """Which price moved, and to what."""

    event: str
    book: str
    market: str
    outcome: str
    price: int


async def move_price(filled: Filled, cache: CatalogCache, league: str) -> Moved:
    """Move one price of ``league`` as ingest does (PostgreSQL, then the stream) and wait until the
    cache has seen the stream entry."""
    poller = filled.pipeline.poller
    eid, ev = next((k, v) for k, v in poller.state[league].items() if v["odds"])
    book = next(iter(ev["odds"]))
    market = next(iter(ev["odds"][book]))
    outcome, quote = next(iter(ev["odds"][book][market].items()))
    new_price = quote["price"] + 5 if quote["price"] != -105 else 100
    moved = {**ev, "odds": {**ev["odds"], book: {**ev["odds"][book],
                                                  market: {**ev["odds"][book][market],
                                                           outcome: {**quote, "price": new_price}}}}}
    changes = diff_event(eid, ev, moved, poller.provider.now_ms())
    poller.state[league] = {**poller.state[league], eid: moved}
    await filled.pipeline.store.write(StoreBatch(league, {}, changes))
    gen = cache.generation(league)
    assert poller.publisher is not None
    await poller.publisher.publish(make_batch(league, changes, poller.state[league]))
    await wait_for(lambda: cache.generation(league) != gen, what="invalidation")
    return Moved(eid, book, market, outcome, new_price)
