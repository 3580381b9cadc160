"""Benchmark: changes/s the differ + publisher sustain on simulator odds (110 leagues), against a bare
XADD loop writing the same entries in the same run.

    .venv/bin/python bench/ingest.py [--leagues 110] [--steps 6] [--minutes 20]

Starts an embedded Redis unless REDIS_URL is set. The simulator's answers are computed up front
(they are the provider, not ingest); the timed part is diff + batch building + the MULTI (XADD and
snapshot update) per league per step. Prints a table; writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402

from devtools.devservers import EmbeddedRedis  # noqa: E402
from ingest.differ import diff  # noqa: E402
from ingest.model import Snapshot, league_from_api, new_event, odds_from_api, parse_time_ms, status_for  # noqa: E402
from ingest.providers.simulator import Simulator  # noqa: E402
from ingest.publisher import Publisher, make_batch  # noqa: E402
from shared import streams  # noqa: E402
from shared.redis import create_client  # noqa: E402

MARKETS = ("h2h", "spreads", "totals")


async def provider_states(leagues: int, steps: int, minutes: float) -> list[dict[str, Snapshot]]:
    """Each step's full snapshot of every league, as ingest would build it from the provider."""
    now = [1_800_000_000.0]
    sim = Simulator(seed=1, leagues=leagues, clock=lambda: now[0])
    catalog = [league_from_api(x) for x in await sim.sports()]
    out = []
    for _ in range(steps + 1):
        t = sim.now_ms()
        snap: dict[str, Snapshot] = {}
        for lg in catalog:
            state: Snapshot = {}
            for raw in await sim.odds(lg.key, MARKETS):
                ev = new_event(raw, lg)
                ev["status"] = status_for(parse_time_ms(ev["commence"]), t, 86_400_000)
                ev["odds"] = odds_from_api(raw, MARKETS)
                state[ev["id"]] = ev
            snap[lg.key] = state
        out.append(snap)
        now[0] += minutes * 60
    return out


async def run_pipeline(url: str, states: list[dict[str, Snapshot]]) -> dict[str, float]:
    redis = create_client(url)
    await redis.flushdb()
    current: dict[str, Snapshot] = {}
    pub = Publisher(redis, lambda lg: current.get(lg, {}), maxlen=10_000)
    for league, snap in states[0].items():  # the first full publish is set-up, not steady state
        current[league] = snap
        await pub.publish(make_batch(league, diff({}, snap, 0), snap))
    changes = entries = 0
    elapsed = 0.0
    for step, snap in enumerate(states[1:], 1):
        t0 = time.perf_counter()
        for league, new in snap.items():
            ch = diff(current[league], new, step)
            current[league] = new
            if ch:
                await pub.publish(make_batch(league, ch, new))
                changes += len(ch)
                entries += 1
        elapsed += time.perf_counter() - t0
    await redis.aclose()
    return {"changes": changes, "entries": entries, "seconds": elapsed}


async def run_bare_xadd(url: str, states: list[dict[str, Snapshot]]) -> dict[str, float]:
    """The same entries, XADDed one by one with no diff, no MULTI and no snapshot."""
    redis = create_client(url)
    await redis.flushdb()
    prepared = []
    for prev, snap in zip(states, states[1:], strict=False):
        for league, new in snap.items():
            ch = diff(prev[league], new, 1)
            if ch:
                prepared.append((streams.odds_stream(league), streams.encode_odds(ch), len(ch)))
    t0 = time.perf_counter()
    for stream, fields, _n in prepared:
        await redis.xadd(stream, fields, maxlen=10_000, approximate=True)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    await redis.aclose()
    return {"changes": sum(p[2] for p in prepared), "entries": len(prepared), "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leagues", type=int, default=110)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=20.0, help="simulated minutes between steps")
    args = parser.parse_args()
    server = None
    data = ROOT / ".data" / f"bench-ingest-{os.getpid()}"
    url = os.environ.get("REDIS_URL", "")
    if not url:
        server = EmbeddedRedis(data / "redis")
        url = server.start()
    try:
        states = uvloop.run(provider_states(args.leagues, args.steps, args.minutes))
        bare = uvloop.run(run_bare_xadd(url, states))
        pipe = uvloop.run(run_pipeline(url, states))
        bare2 = uvloop.run(run_bare_xadd(url, states))  # again: the machine is shared and noisy
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data, ignore_errors=True)
    bare_best = min(bare["seconds"], bare2["seconds"])
    rows = [
        ("bare XADD loop (baseline)", bare["entries"], bare["changes"], bare_best),
        ("differ + publisher (MULTI: XADD + snapshot)", pipe["entries"], pipe["changes"], pipe["seconds"]),
    ]
    events = sum(len(s) for s in states[0].values())
    print(f"\ningest bench: {args.leagues} leagues, {events} events, {args.steps} steps of {args.minutes:g} "
          "simulated minutes\n")
    print(f"{'path':48} {'entries':>8} {'changes':>9} {'seconds':>8} {'changes/s':>11} {'entries/s':>10}")
    result: dict[str, Any] = {"leagues": args.leagues, "events": events, "steps": args.steps, "runs": {}}
    for name, entries, changes, secs in rows:
        print(f"{name:48} {entries:>8} {changes:>9} {secs:>8.3f} {changes / secs:>11,.0f} {entries / secs:>10,.0f}")
        result["runs"][name] = {"entries": entries, "changes": changes, "seconds": secs,
                                "changes_per_s": changes / secs, "entries_per_s": entries / secs}
    ratio = (pipe["changes"] / pipe["seconds"]) / (bare["changes"] / bare_best)
    result["ratio_changes_per_s_vs_bare_xadd"] = ratio
    print(f"\nratio (differ + publisher changes/s) / (bare XADD changes/s) = {ratio:.2f}")
    out = ROOT / "bench" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
