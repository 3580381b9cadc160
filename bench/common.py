"""Helpers the benchmark scripts share (run them from the project root: ``python bench/NAME.py``)."""

from __future__ import annotations

import asyncio
import math
import subprocess
import time

import aiohttp


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0 <= q <= 1) of ``values``, interpolated between the nearest ranks; NaN when empty.

    The same as ``statistics.quantiles(values, n=100, method="inclusive")[k - 1]`` for q = k / 100.
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


async def wait_ready(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """Poll ``url`` until it answers 200; RuntimeError if one of ``procs`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            for proc in procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} during start-up")
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} not ready in {timeout}s")
