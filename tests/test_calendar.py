"""A fast slice of the calendar sweep (tests/calendar_sweep.sh) in the suite, so CI catches a test
that starts to depend on the day: the date-sensitive agent and seed modules, run with the whole
process tree's clock (Python, PostgreSQL, Redis) moved by libfaketime to instants where a
wall-clock dependency would show."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.helpers import scaled

# A Friday (the master agent's latest week is overdue), the last seconds before a Tuesday close
# and a year's end, and the night New York falls back.
INSTANTS = ["2026-12-04 12:00:00", "2026-11-30 23:59:30", "2026-11-01 06:30:00"]
MODULES = "tests/restapi/test_seed.py tests/restapi/agent/test_settlements.py tests/restapi/agent/test_jobs.py"


@pytest.mark.parametrize("instant", INSTANTS)
def test_date_sensitive_tests_pass_at(instant: str) -> None:
    assert shutil.which("faketime"), "Debian's faketime is missing (./dev test installs it as root)"
    env = {**os.environ, "SWEEP_INSTANTS": instant, "SWEEP_MODULES": MODULES}
    env.pop("DATABASE_URL", None)  # the inner run starts its own servers, under the fake clock
    env.pop("REDIS_URL", None)
    run = subprocess.run(["bash", "tests/calendar_sweep.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=scaled(900))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{instant} UTC  rc=0" in run.stdout and " passed" in run.stdout, run.stdout
