"""Lighthouse (mobile) on the login, odds board, event, history and agent dashboard pages; prints a score table.

Needs a running WagerBabe (``./dev up``) with the demo seed, Node 18+ and Debian's chromium:

    python bench/lighthouse.py [--base http://127.0.0.1:8080]

Installs the pinned npm ``lighthouse`` into bench/lighthouse/ on first use, writes each page's full
JSON report to bench/lighthouse/reports/ and the scores to bench/results/lighthouse.json;
``--runs N`` makes N passes and prints the median per page with the load average around them.

Scores are Lighthouse's normalised 0-1 figures with simulated mobile throttling. Its simulation
multiplies the main-thread time it observed by a CPU slowdown of 4, made for a fast desktop host
(BenchmarkIndex over 1000; Lighthouse warns below it). On a loaded 2-core host (BenchmarkIndex
200-500) that simulates a phone several times slower than any real one, so each page is also
scored from the same trace with the slowdown calibrated to the host: BenchmarkIndex / 264, the
score of Chrome DevTools' low-tier phone (at least 1x). Both figures are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LH = HERE / "lighthouse"
TARGETS = {"performance": 0.95, "accessibility": 0.90, "best_practices": 0.90, "seo": 0.90}
METRICS = (*TARGETS, "fcp_ms", "lcp_ms", "tbt_ms", "cls")


def _run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One Lighthouse pass over every page: {page: scores}, with the load average before it."""
    load = os.getloadavg()[0]
    out = subprocess.run(["node", "run.mjs", args.base.rstrip("/"), str(LH / "reports")], cwd=LH,
                         env={**os.environ, "CHROME_PATH": args.chrome}, capture_output=True, text=True,
                         timeout=args.timeout)
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        raise SystemExit(1)
    pages: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return {"load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2), "pages": pages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8080", help="base URL of a running restapi")
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one pass may take")
    parser.add_argument("--runs", type=int, default=1, help="passes over every page; the table shows medians")
    args = parser.parse_args()
    if not (LH / "node_modules" / "lighthouse").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LH, check=True, timeout=args.timeout)
    start = time.monotonic()
    runs = []
    for i in range(args.runs):
        runs.append(_run_once(args))
        print(f"pass {i + 1}/{args.runs}: load average {runs[-1]['load_before']} -> {runs[-1]['load_after']}, "
              + ", ".join(f"{k} {v['performance']:.2f} ({v['calibrated']['performance']:.2f} at "
                          f"{v['calibrated']['cpu_slowdown']}x)" for k, v in runs[-1]["pages"].items()), flush=True)
    names = list(runs[0]["pages"])
    med = {n: {k: statistics.median(r["pages"][n][k] or 0 for r in runs) for k in METRICS} for n in names}
    cal = {n: {k: statistics.median(r["pages"][n]["calibrated"][k] or 0 for r in runs)
               for k in (*METRICS, "cpu_slowdown")} for n in names}
    print(f"\nmedians of {len(runs)} pass(es); load average {min(r['load_before'] for r in runs)}-"
          f"{max(r['load_after'] for r in runs)} (a shared 2-core machine)")
    print(f"{'page':<16} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5} {'FCP ms':>7} {'LCP ms':>7} {'TBT ms':>7}"
          f" {'CLS':>6} | {'cpu x':>5} {'perf':>5} {'TBT ms':>7}")
    ok = ok_cal = True
    for n in names:
        r, c = med[n], cal[n]
        print(f"{n:<16} {r['performance']:>5.2f} {r['accessibility']:>5.2f} {r['best_practices']:>5.2f}"
              f" {r['seo']:>5.2f} {r['fcp_ms']:>7.0f} {r['lcp_ms']:>7.0f} {r['tbt_ms']:>7.0f} {r['cls']:>6.3f} |"
              f" {c['cpu_slowdown']:>5.2f} {c['performance']:>5.2f} {c['tbt_ms']:>7.0f}")
        ok &= all(r[k] >= v for k, v in TARGETS.items())
        ok_cal &= all(c[k] >= v for k, v in TARGETS.items())
        failed = sorted({f for run in runs for f in run["pages"][n]["failed"]})
        if failed:
            print(f"  {n}: failing audits: {', '.join(failed)}")
    print(f"targets (perf >= 0.95, others >= 0.90): {'met' if ok else 'NOT met'} with Lighthouse's 4x CPU slowdown;"
          f" {'met' if ok_cal else 'NOT met'} with the slowdown calibrated to this host;"
          f" {time.monotonic() - start:.0f} s")
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "lighthouse.json").write_text(json.dumps({"base": args.base, "runs": runs, "median": med,
                                                             "median_calibrated": cal, "targets": TARGETS,
                                                             "met": ok, "met_calibrated": ok_cal}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
