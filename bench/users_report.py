"""The arithmetic and the pictures of bench/users.py: merging the load generators' histograms into per-endpoint
percentiles, errors, the knee, the table and the SVG plot (no I/O)."""

from __future__ import annotations

import argparse
import math
from typing import Any

CONNECT_PHASE = frozenset({"auth/push-ticket"})  # bought mostly while the sockets open: not in the REST summary
TARGETS = {"rest_p95_ms": 200.0, "ws_p99_ms": 100.0, "error_rate": 0.001}


def pct_hist(hist: dict[int, int], q: float, scale: float) -> float:
    """The q-quantile (0-1) of a bucket -> count histogram, in ms (``scale`` ms per bucket)."""
    total = sum(hist.values())
    if not total:
        return float("nan")
    want, seen = q * total, 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= want:
            return round(bucket * scale, 1)
    return round(max(hist) * scale, 1)


def is_error(status: str) -> bool:
    """A failed answer: a network error or timeout, a 5xx, a 429, a 4xx other than a bet's 409 refusal."""
    if not status.isdigit():
        return True
    code = int(status)
    return code >= 400 and code != 409


def summarise(n: int, agents: int, workers: int, args: argparse.Namespace, stats: list[dict[str, Any]],
              ready: int, connect_s: float, samples: list[tuple[int, int]], cpu: dict[str, float],
              load0: list[float], load1: list[float]) -> dict[str, Any]:
    hists: dict[str, dict[int, int]] = {}
    statuses: dict[str, dict[str, int]] = {}
    codes: dict[str, dict[str, int]] = {}
    ws: dict[int, int] = {}
    for s in stats:
        for ep, pairs in s["hist"].items():
            h = hists.setdefault(ep, {})
            for b, k in pairs:
                h[b] = h.get(b, 0) + k
        for ep, by in s["status"].items():
            for st, k in by.items():
                statuses.setdefault(ep, {})[st] = statuses.setdefault(ep, {}).get(st, 0) + k
        for ep, by in s["codes"].items():
            for code, k in by.items():
                codes.setdefault(ep, {})[code] = codes.setdefault(ep, {}).get(code, 0) + k
        for b, k in s["ws_hist"]:
            ws[b] = ws.get(b, 0) + k
    endpoints = {}
    every: dict[int, int] = {}
    for ep in sorted(hists):
        h = hists[ep]
        if ep not in CONNECT_PHASE:
            for b, k in h.items():
                every[b] = every.get(b, 0) + k
        endpoints[ep] = {"count": sum(h.values()), "p50_ms": pct_hist(h, 0.5, 0.1), "p95_ms": pct_hist(h, 0.95, 0.1),
                         "p99_ms": pct_hist(h, 0.99, 0.1), "by_status": statuses.get(ep, {}),
                         "codes": codes.get(ep, {})}
    requests = sum(e["count"] for ep, e in endpoints.items() if ep not in CONNECT_PHASE)
    errors: dict[str, int] = {}
    for by in statuses.values():
        for st, k in by.items():
            if is_error(st):
                errors[st] = errors.get(st, 0) + k
    answers = sum(e["count"] for e in endpoints.values())  # the push tickets too: their errors count
    refusals = sum(k for by in statuses.values() for st, k in by.items() if st == "409")
    bets = [tuple(b) for s in stats for b in s["bets"]]
    row: dict[str, Any] = {
        "users": n, "agents": agents, "loadgen_procs": workers, "compress": args.compress, "seconds": args.seconds,
        "sockets_ready": ready, "connect_s": round(connect_s, 1), "loadavg_before": load0, "loadavg_after": load1,
        "rest": {"requests": requests, "per_s": round(requests / args.seconds, 1), "p50_ms": pct_hist(every, 0.5, 0.1),
                 "p95_ms": pct_hist(every, 0.95, 0.1), "p99_ms": pct_hist(every, 0.99, 0.1)},
        "endpoints": endpoints,
        "errors": {"count": sum(errors.values()), "rate": round(sum(errors.values()) / max(1, answers), 5),
                   "by_status": errors, "bet_refusals_409": refusals},
        "ws": {"frames": sum(s["ws_frames"] for s in stats), "p50_ms": pct_hist(ws, 0.5, 1.0),
               "p99_ms": pct_hist(ws, 0.99, 1.0), "max_ms": max(ws) if ws else None,
               "snapshots": sum(s["ws_snapshots"] for s in stats), "drops": sum(s["ws_drops"] for s in stats)},
        "bets": {"placed": len(bets), "per_s": round(len(bets) / args.seconds, 2),
                 "retries": sum(s["bet_retries"] for s in stats),
                 "unanswered": sum(len(s["bets_unanswered"]) for s in stats)},
        "pg_connections": {"max": max((a for a, _ in samples), default=0),
                           "mean": round(sum(a for a, _ in samples) / max(1, len(samples)), 1),
                           "active_max": max((b for _, b in samples), default=0)},
        "cpu_cores": cpu,
        "placed": bets,
    }
    row["meets"] = {"rest_p95": row["rest"]["p95_ms"] < TARGETS["rest_p95_ms"],
                    "ws_p99": row["ws"]["frames"] > 0 and row["ws"]["p99_ms"] < TARGETS["ws_p99_ms"],
                    "errors": row["errors"]["rate"] < TARGETS["error_rate"], "sockets": ready == n}
    return row


def knee(runs: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest size meeting every target and the first one missing one (with what it missed)."""
    best, first_miss = None, None
    rows = [(r["users"], [k for k, ok in r["meets"].items() if not ok]) for r in runs]
    rows += [(f["users"], ["completed"]) for f in failed]
    for users, missed in sorted(rows):
        if missed and first_miss is None:
            first_miss = {"users": users, "missed": missed}
        if not missed and first_miss is None:
            best = users
    return {"largest_meeting_targets": best, "first_missing": first_miss, "targets": TARGETS}


def svg(runs: list[dict[str, Any]]) -> str:
    """REST p95 / p99 and WebSocket p99 against users, with the target lines: a dependency-free SVG."""
    w, h, pad = 760, 400, 60
    xs = [r["users"] for r in runs]
    lines = {"REST p95": [r["rest"]["p95_ms"] for r in runs], "REST p99": [r["rest"]["p99_ms"] for r in runs],
             "WebSocket p99": [r["ws"]["p99_ms"] for r in runs]}
    finite = [v for vs in lines.values() for v in vs if v == v]
    ymax = max([*finite, 250.0]) * 1.1
    xmax = max(xs) if xs else 1

    def px(x: float) -> float:
        return pad + x / xmax * (w - 2 * pad)

    def py(y: float) -> float:  # log scale: the targets and a missed run on one chart
        return h - pad - math.log10(max(1.0, y)) / math.log10(ymax) * (h - 2 * pad)

    colors = {"REST p95": "#1f77b4", "REST p99": "#9467bd", "WebSocket p99": "#d62728"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{pad}" y="20">Mixed users: latency (ms, log scale) by simulated users; dashed: targets '
             f'(REST p95 200, WebSocket p99 100)</text>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{pad}" y2="{pad}" stroke="black"/>',
             f'<text x="{w // 2 - 20}" y="{h - 20}">users</text>']
    for target, color in ((200.0, "#1f77b4"), (100.0, "#d62728")):
        parts.append(f'<line x1="{pad}" y1="{py(target):.1f}" x2="{w - pad}" y2="{py(target):.1f}" '
                     f'stroke="{color}" stroke-dasharray="6,4"/>')
    for r in runs:
        x = px(r["users"])
        parts.append(f'<text x="{x - 15:.1f}" y="{h - pad + 16}">{r["users"]}</text>')
        parts.append(f'<text x="{x - 15:.1f}" y="{h - pad + 30}" fill="#555">err {r["errors"]["rate"] * 100:.2f}%'
                     '</text>')
    for i, (name, ys) in enumerate(lines.items()):
        pts = [(px(x), py(y)) for x, y in zip(xs, ys, strict=True) if y == y]
        parts.append(f'<polyline fill="none" stroke="{colors[name]}" stroke-width="2" points="'
                     + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colors[name]}"/>' for a, b in pts]
        parts.append(f'<text x="{w - pad - 120}" y="{pad + 16 * i}" fill="{colors[name]}">{name}</text>')
    for tick in (1, 10, 100, 1000, 10_000, 100_000):
        if tick < ymax:
            parts.append(f'<text x="5" y="{py(tick) + 4:.1f}">{tick}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def table(runs: list[dict[str, Any]]) -> str:
    head = ("users", "req/s", "REST p50/p95/p99 ms", "errors", "WS frames", "WS p50/p99 ms", "bets/s", "PG conns max",
            "cores: pg/rest/push/ingest/gen", "stack/machine cores", "CPU wait/s: rest/push/gen", "hello p95 ms",
            "load")
    out = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in runs:
        c = r["cpu_cores"]
        out.append(" | ".join(str(x) for x in (
            r["users"], r["rest"]["per_s"], f"{r['rest']['p50_ms']}/{r['rest']['p95_ms']}/{r['rest']['p99_ms']}",
            f"{r['errors']['count']} ({r['errors']['rate'] * 100:.3f}%)", r["ws"]["frames"],
            f"{r['ws']['p50_ms']}/{r['ws']['p99_ms']}", r["bets"]["per_s"], r["pg_connections"]["max"],
            f"{c.get('postgres')}/{c.get('restapi')}/{c.get('pushd')}/{c.get('ingest')}/{c.get('loadgen')}",
            f"{r.get('cpu_cores_stack_total')}/{r.get('cpu_cores_machine_busy')}",
            "/".join(str(r.get("runqueue_wait_per_s", {}).get(k)) for k in ("restapi", "pushd", "loadgen")),
            r.get("baseline_hello", {}).get("p95_ms"),
            r["loadavg_after"][0])))
    return "\n".join(out)


def endpoint_table(r: dict[str, Any]) -> str:
    out = [f"users={r['users']}: endpoint | count | p50 | p95 | p99 ms | answers", "--- | --- | --- | --- | --- | ---"]
    for ep, e in r["endpoints"].items():
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(e["by_status"].items()))
        out.append(f"{ep} | {e['count']} | {e['p50_ms']} | {e['p95_ms']} | {e['p99_ms']} | {answers}")
    return "\n".join(out)
