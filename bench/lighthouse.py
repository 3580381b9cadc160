"""Lighthouse (mobile) on the login, odds board, event, history and agent dashboard pages; prints a score table.

Needs a running WagerBabe (``./dev up``) with the demo seed, Node 18+ and Debian's chromium:

    python bench/lighthouse.py [--base http://127.0.0.1:8080]

Installs the pinned npm ``lighthouse`` into bench/lighthouse/ on first use, writes each page's full
JSON report to bench/lighthouse/reports/ and the scores to bench/results/lighthouse.json. Scores are
Lighthouse's own normalised 0-1 figures with simulated mobile throttling, so they depend far less on
this shared machine's load than wall-clock times; the login page (public, no API calls) is the
baseline each other page's performance is compared with.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LH = HERE / "lighthouse"
TARGETS = {"performance": 0.95, "accessibility": 0.90, "best_practices": 0.90, "seo": 0.90}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8080", help="base URL of a running restapi")
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds the whole run may take")
    args = parser.parse_args()
    if not (LH / "node_modules" / "lighthouse").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LH, check=True, timeout=args.timeout)
    start = time.monotonic()
    out = subprocess.run(["node", "run.mjs", args.base.rstrip("/"), str(LH / "reports")], cwd=LH,
                         env={**os.environ, "CHROME_PATH": args.chrome}, capture_output=True, text=True,
                         timeout=args.timeout)
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        return 1
    results = json.loads(out.stdout.strip().splitlines()[-1])
    base_perf = results["login"]["performance"] or 1.0
    print(f"{'page':<16} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5} {'FCP ms':>7} {'LCP ms':>7} {'TBT ms':>7}"
          f" {'CLS':>6} {'perf/login':>10}")
    ok = True
    for name, r in results.items():
        r["perf_vs_login"] = round((r["performance"] or 0) / base_perf, 3)
        print(f"{name:<16} {r['performance']:>5.2f} {r['accessibility']:>5.2f} {r['best_practices']:>5.2f}"
              f" {r['seo']:>5.2f} {r['fcp_ms']:>7.0f} {r['lcp_ms']:>7.0f} {r['tbt_ms']:>7.0f} {r['cls']:>6.3f}"
              f" {r['perf_vs_login']:>10.3f}")
        ok &= all((r[k] or 0) >= v for k, v in TARGETS.items())
        if r["failed"]:
            print(f"  {name}: failing audits: {', '.join(r['failed'])}")
    print(f"targets (perf >= 0.95, others >= 0.90): {'met' if ok else 'NOT met'}; {time.monotonic() - start:.0f} s")
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "lighthouse.json").write_text(json.dumps({"base": args.base, "pages": results,
                                                             "targets": TARGETS, "met": ok}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
