"""The short chaos run: the whole stack through Redis, pushd, restapi, PostgreSQL and ingest faults
loses no bet, doubles none, keeps the ledger, shows no empty board and answers no 500."""

from __future__ import annotations

import subprocess
import sys

import orjson

from tests.conftest import ROOT, TIMEOUT_FACTOR


def test_chaos_short_run_loses_nothing_and_never_answers_500() -> None:
    out_file = ROOT / ".data" / "chaos_smoke_test.json"
    out = subprocess.run([sys.executable, "bench/chaos.py", "--short", "--out", str(out_file)], cwd=ROOT,
                         capture_output=True, text=True, timeout=900 * TIMEOUT_FACTOR)
    assert out.returncode == 0, out.stderr[-3000:]
    result = orjson.loads(out_file.read_bytes())
    bets = result["bets"]
    assert bets["placed"] > 0 and bets["lost"] == 0 and bets["doubled"] == 0
    assert result["ledger_ok"]
    assert result["offsets"]["missing"] == 0 and result["offsets"]["repeated"] == 0
    assert result["ws"]["empty_boards"] == 0
    redis = next(p for p in result["phases"] if p["fault"].startswith("redis"))
    assert redis["full_board_s"] is not None  # every league republished after Redis came back empty
    for phase in result["phases"]:
        assert "500" not in phase["answers"], phase
    assert any(m.startswith("restarted push1") for m in result["restarts"])
