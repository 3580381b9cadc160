#!/usr/bin/env bash
# The calendar sweep: run the date-sensitive test modules with the whole process tree's clock moved
# to each instant below by libfaketime (Debian's `faketime`), to prove that no test's outcome
# depends on the day or hour it runs. PostgreSQL and Redis, started by the suite, inherit the fake
# clock, so SQL now() and Python agree. The clock keeps ticking from each instant (an offset, not a
# frozen time: a frozen clock would hang every timeout), and every process shares the offset.
#
#   tests/calendar_sweep.sh                 # every instant, the default modules
#   tests/calendar_sweep.sh -k settle       # extra arguments go to pytest
#   SWEEP_INSTANTS="2026-12-04 12:00:00" tests/calendar_sweep.sh
#
# Exits non-zero when any instant fails; prints one line per instant.
set -uo pipefail
cd "$(dirname "$0")/.."

DEFAULT_INSTANTS=(
  "2026-11-30 12:00:00"  # Monday
  "2026-12-01 12:00:00"  # Tuesday (close day)
  "2026-12-02 12:00:00"  # Wednesday
  "2026-12-03 12:00:00"  # Thursday (master agent's due day)
  "2026-12-04 12:00:00"  # Friday
  "2026-12-05 12:00:00"  # Saturday
  "2026-12-06 12:00:00"  # Sunday
  "2026-11-30 23:59:30"  # the night before the Tuesday close
  "2026-03-08 06:30:00"  # US daylight saving starts (America/New_York, 2:00 -> 3:00 local)
  "2026-11-01 06:30:00"  # US daylight saving ends (2:00 -> 1:00 local)
  "2026-12-31 23:59:30"  # the turn of the year
)
# The modules whose code reads a date: settlement close and reminders, report ranges, the seed,
# token expiry and purge, the grader's sweep and void rule, archive partitions, the simulator; and
# the modules whose tests date their data from the real clock (provider game times, the login
# throttle's hand-moved clock).
DEFAULT_MODULES=(
  tests/restapi/test_seed.py
  tests/restapi/agent/test_cycles.py tests/restapi/agent/test_settlements.py tests/restapi/agent/test_jobs.py
  tests/restapi/agent/test_reports.py tests/restapi/agent/test_clients.py
  tests/restapi/auth/test_keys_and_expiry.py tests/restapi/auth/test_purge.py tests/restapi/auth/test_reset.py
  tests/restapi/betting/test_grader.py tests/restapi/betting/test_history.py
  tests/ingest/test_archive.py tests/ingest/test_simulator.py tests/ingest/test_scheduler.py
  tests/pushd/test_credentials.py
  tests/ingest/test_theoddsapi.py tests/restapi/auth/test_security_auth.py
)

if [ -n "${SWEEP_INSTANTS:-}" ]; then IFS=$'\n' read -r -d '' -a instants <<<"$SWEEP_INSTANTS"; else instants=("${DEFAULT_INSTANTS[@]}"); fi
if [ -n "${SWEEP_MODULES:-}" ]; then read -r -a modules <<<"$SWEEP_MODULES"; else modules=("${DEFAULT_MODULES[@]}"); fi
python=${PYTHON:-.venv/bin/python}
command -v faketime >/dev/null || { echo "calendar sweep: faketime is not installed (Debian package faketime)" >&2; exit 2; }

failed=0
for instant in "${instants[@]}"; do
  [ -n "$instant" ] || continue
  offset=$(( $(date -ud "$instant" +%s) - $(date -u +%s) ))
  sign=$([ "$offset" -ge 0 ] && echo "+" || echo "")
  start=$(date -u +%s)
  log=$(mktemp)
  faketime -f "${sign}${offset}s" "$python" -m pytest -q -p no:cacheprovider "${modules[@]}" "$@" >"$log" 2>&1
  rc=$?
  summary=$(grep -E '(passed|failed|error)' "$log" | tail -1)
  printf '%s UTC  rc=%s  %ss  %s\n' "$instant" "$rc" "$(( $(date -u +%s) - start ))" "$summary"
  if [ "$rc" -ne 0 ]; then failed=1; grep -E '^(FAILED|ERROR)' "$log" | sed 's/^/    /'; fi
  rm -f "$log"
done
exit "$failed"
