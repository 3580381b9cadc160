"""Helpers the benchmark scripts share (run them from the project root: ``python bench/NAME.py``)."""

from __future__ import annotations

import asyncio
import subprocess
import time

import aiohttp


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
