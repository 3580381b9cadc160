"""A 200-socket smoke of bench/soak.py: pushd and the python peer, a reconnect storm, no gap."""

from __future__ import annotations

import subprocess
import sys

import orjson

from tests.conftest import ROOT, TIMEOUT_FACTOR


def test_soak_smoke_runs_pushd_and_a_peer_and_resumes_the_storm_without_gaps(redis_url: str) -> None:
    out = subprocess.run([sys.executable, "bench/soak.py", "--smoke", "--redis-url", redis_url,
                          "--name", "soak_smoke_test"], cwd=ROOT, capture_output=True, text=True,
                         timeout=180 * TIMEOUT_FACTOR)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "fan-out (CPU/frame)" in out.stdout
    result = orjson.loads((ROOT / "bench" / "results" / "soak_smoke_test.json").read_bytes())
    runs = {r["server"]: r for r in result["runs"]}
    assert set(runs) == {"pushd", "websockets"}
    for r in runs.values():
        assert r["connected"] == 200 and r["frames"] > 0 and r["gaps"] == 0
    storm = runs["pushd"]["storm"]
    assert storm["dropped"] == 20 and storm["resumed"] == 20 and storm["recovered"] == 20 and storm["gaps"] == 0
    assert result["ratios"][0]["peer"] == "websockets"
