"""A 20-user smoke of bench/users.py: the whole stack, every endpoint a person uses, no error, and every
bet in the ledger exactly once."""

from __future__ import annotations

import subprocess
import sys

import orjson

from tests.conftest import ROOT, TIMEOUT_FACTOR

ENDPOINTS = {"auth/push-ticket", "shared/sidebar", "betting/odds", "betting/events/{id}", "betting/slip/selections",
             "betting/slip", "betting/bets POST", "betting/slip DELETE", "betting/bets GET", "agent/dashboard",
             "agent/clients", "agent/reports/customers"}


def test_users_smoke_exercises_every_endpoint_without_errors_and_lands_each_bet_once() -> None:
    seconds = 6 * TIMEOUT_FACTOR  # think times are compressed 20x: every player browses, most bet
    out = subprocess.run([sys.executable, "bench/users.py", "--smoke", "--seconds", str(seconds),
                          "--request-timeout", str(30 * TIMEOUT_FACTOR), "--name", "users_smoke_test"],
                         cwd=ROOT, capture_output=True, text=True,
                         timeout=600 * TIMEOUT_FACTOR)
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    result = orjson.loads((ROOT / "bench" / "results" / "users_smoke_test.json").read_bytes())
    (run,) = result["runs"]
    assert run["users"] == 20 and run["sockets_ready"] == 20
    assert set(run["endpoints"]) == ENDPOINTS
    for name, ep in run["endpoints"].items():
        assert ep["count"] > 0, name
    assert run["errors"]["count"] == 0, run["errors"]
    assert run["bets"]["placed"] > 0 and run["bets"]["unanswered"] == 0
    ledger = result["ledger"]
    assert ledger["ok"], ledger
    assert ledger["answered"] == ledger["in_db"] == run["bets"]["placed"]
    assert ledger["lost"] == ledger["wrong_key"] == ledger["bet_risk_not_exactly_once"] == 0
    assert run["ws"]["snapshots"] >= 40  # 2-3 leagues a socket, each answered with its board
    assert run["cpu_cores"]["restapi"] > 0 and run["pg_connections"]["max"] > 0
    assert result["pgbouncer"] is True  # Debian's pgbouncer is installed by ./dev (DEBIAN_TOOLS)
    assert (ROOT / "bench" / "results" / "users_smoke_test.svg").read_text().startswith("<svg")
