"""Sentinel failover: time from SIGKILL of the Redis primary to full service through our client.

A client built by ``shared.redis.create_client`` from the ``redis+sentinel://`` URL (what restapi,
ingest, jobs and pushd use) writes and reads every 10 ms; the primary is killed and the time until
writes succeed again on the promoted replica is measured, for each ``down-after-milliseconds``.
Run from the project root: ``python bench/sentinel.py``; writes bench/results/sentinel.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.redisha import RedisHA  # noqa: E402
from shared.redis import create_client  # noqa: E402


async def one(down_after_ms: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="wb-sentinel-", dir=ROOT / ".data"))
    ha = RedisHA(root, down_after_ms=down_after_ms)
    try:
        url = await asyncio.to_thread(ha.start)
        client = create_client(url)
        for i in range(50):
            await client.set(f"k{i}", i)
        killed = time.monotonic()
        await asyncio.to_thread(ha.kill_primary)
        errors, back = 0, None
        while time.monotonic() - killed < 120:
            try:
                await client.set("probe", time.monotonic())
                await client.get("probe")
                back = time.monotonic()
                break
            except Exception:
                errors += 1
                await asyncio.sleep(0.01)
        if back is None:
            raise RuntimeError("no service 120 s after the kill")
        kept = sum(1 for v in await client.mget([f"k{i}" for i in range(50)]) if v is not None)
        await client.aclose()
        await client.connection_pool.disconnect()
        return {"down_after_ms": down_after_ms, "kill_to_service_s": round(back - killed, 2),
                "failed_calls": errors, "keys_kept_of_50": kept}
    finally:
        ha.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--down-after", default="1000,5000", help="Sentinel down-after-milliseconds values")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sentinel.json")
    args = parser.parse_args()
    results = []
    for ms in (int(v) for v in args.down_after.split(",")):
        r = asyncio.run(one(ms))
        results.append(r)
        print(f"down-after {ms:5d} ms: service back {r['kill_to_service_s']:.2f} s after the kill "
              f"({r['failed_calls']} failed calls, {r['keys_kept_of_50']}/50 keys kept)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "sentinel", "cpus": os.cpu_count(), "runs": results}, indent=2))


if __name__ == "__main__":
    main()
