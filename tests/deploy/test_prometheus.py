"""Alert rules: promtool checks and unit tests, a runbook per alert, every metric a rule reads exported
by a running service, and a real Prometheus over a running stack firing the stale-feed alert."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from devtools.devservers import free_port
from tests.conftest import ROOT
from tests.deploy.helpers import (
    PROMETHEUS,
    PROMTOOL,
    RULE_TESTS,
    RULES,
    RUNBOOK_PREFIX,
    RUNBOOKS,
    Proc,
    env_with,
    get_json,
    get_text,
    load_rules,
    panel_exprs,
    service,
)
from tests.deploy.promql import exported_names, metric_names
from tests.helpers import wait_for

# Metrics of components that do not run in the suite's stack, by who exports them in production:
# prometheus-redis-exporter and prometheus-postgres-exporter (Debian packages), the backup job of
# issue 15 (pgBackRest), and Prometheus itself. Every other name must come from a running service.
NOT_IN_STACK = {
    "redis_memory_used_bytes": "redis_exporter", "redis_memory_max_bytes": "redis_exporter",
    "redis_rejected_connections_total": "redis_exporter",
    "pg_replication_lag_seconds": "postgres_exporter / issue 15 replica",
    "backup_last_success_timestamp_seconds": "issue 15 backup job",
    "pg_stat_archiver_failed_count": "issue 15 backup job",
    "pg_stat_archiver_last_archive_age_seconds": "issue 15 backup job",
    "up": "Prometheus",
    "pg_up": "postgres_exporter", "pg_stat_database_numbackends": "postgres_exporter",
    "pg_stat_database_xact_commit": "postgres_exporter", "pg_stat_database_xact_rollback": "postgres_exporter",
    "redis_connected_clients": "redis_exporter", "redis_commands_processed_total": "redis_exporter",
}
SECTIONS = ("## What it means", "## How to check", "## How to fix", "## How to confirm it is fixed")


def test_promtool_checks_the_rules() -> None:
    out = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(load_rules())} rules found" in out.stdout


def test_promtool_unit_tests_pass_and_fire_every_alert() -> None:
    out = subprocess.run([PROMTOOL, "test", "rules", RULE_TESTS.name], capture_output=True, text=True,
                         timeout=120, cwd=RULE_TESTS.parent)
    assert out.returncode == 0, out.stdout + out.stderr
    fired = {case["alertname"] for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
             for case in test["alert_rule_test"] if case["exp_alerts"]}
    quiet = {case["alertname"] for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
             for case in test["alert_rule_test"] if not case["exp_alerts"]}
    alerts = {r["alert"] for r in load_rules()}
    assert alerts - fired == set(), "alerts no unit test fires"
    assert alerts - quiet == set(), "alerts no unit test shows quiet below the threshold"


def test_every_alert_has_severity_summary_and_a_runbook_that_exists() -> None:
    for rule in load_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        notes = rule["annotations"]
        assert notes["summary"] and notes["description"], name
        assert notes["runbook_url"] == f"{RUNBOOK_PREFIX}{name}.md", name
        text = (RUNBOOKS / f"{name}.md").read_text()
        assert text.startswith(f"# {name}\n"), name
        positions = [text.find(s) for s in SECTIONS]
        assert -1 not in positions and positions == sorted(positions), f"{name}: sections {SECTIONS}"
    assert {p.stem for p in RUNBOOKS.glob("*.md")} == {r["alert"] for r in load_rules()}


def test_the_operations_doc_links_every_runbook() -> None:
    doc = (ROOT / "docs" / "operations-alerts.md").read_text()
    linked = set(re.findall(r"\(runbooks/(\w+)\.md\)", doc))
    assert linked == {r["alert"] for r in load_rules()}


def used_metrics() -> set[str]:
    """Every metric an alert rule or a dashboard panel reads."""
    exprs = [rule["expr"] for rule in load_rules()] + panel_exprs()
    return {name for expr in exprs for name in metric_names(expr)}


def _prometheus_config(path: Path, targets: dict[str, str], rules: Path) -> None:
    path.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [t]}]} for job, t in targets.items()],
    }))


def _fast_rules(path: Path) -> None:
    """The real rules with every ``for`` set to 0s: the expressions and the scraping are under test
    here; the ``for`` durations are covered by the promtool unit tests."""
    doc = yaml.safe_load(RULES.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("for", None)
    path.write_text(yaml.safe_dump(doc))


def _firing(alerts: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [a for a in alerts["data"]["alerts"] if a["labels"]["alertname"] == name and a["state"] == "firing"]


async def test_a_real_prometheus_scrapes_every_rule_metric_and_fires_stale_feed_when_ingest_stops(
        base_env: dict[str, str], tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("restapi", "pushd", "ingest", "jobs", "prometheus")}
    env = env_with(base_env, RESTAPI_PORT=str(ports["restapi"]), PUSHD_PORT=str(ports["pushd"]),
                   INGEST_PORT=str(ports["ingest"]), JOBS_PORT=str(ports["jobs"]),
                   INGEST_SIM_LEAGUES="5", INGEST_TICK="0.2", INGEST_LIVE_INTERVAL="1",
                   INGEST_UPCOMING_INTERVAL="1", INGEST_SCHEDULED_INTERVAL="1", OPS_METRICS_INTERVAL="0.5")
    procs = {name: service(module, ports[name], env, tmp_path / f"{name}.log") for name, module in
             (("restapi", "restapi"), ("pushd", "pushd"), ("ingest", "ingest"), ("jobs", "restapi.jobs"))}
    rules = tmp_path / "alerts.yml"
    _fast_rules(rules)
    _prometheus_config(tmp_path / "prometheus.yml", {n: f"127.0.0.1:{p}" for n, p in ports.items()
                                                     if n != "prometheus"}, rules)
    prom_url = f"http://127.0.0.1:{ports['prometheus']}"
    prom = Proc([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{ports['prometheus']}"], prom_url, env, ready_path="/-/ready",
                log=tmp_path / "prometheus.log")
    try:
        for p in procs.values():
            await p.start()
        await prom.start()

        # Every metric a rule or a dashboard reads is exported by a running service (or named in NOT_IN_STACK).
        exported: set[str] = set()
        for name in ("restapi", "pushd", "ingest", "jobs"):
            exported |= exported_names(await get_text(f"{procs[name].url}/metrics"))
        missing = used_metrics() - exported - set(NOT_IN_STACK)
        assert missing == set(), f"rules or dashboards read metrics no service exports: {sorted(missing)}"
        # ... and Prometheus accepts every dashboard expression (Grafana's $__rate_interval as 1m).
        for expr in panel_exprs():
            query = urlencode({"query": expr.replace("$__rate_interval", "1m")})
            answer = await get_json(f"{prom_url}/api/v1/query?{query}")
            assert answer["status"] == "success", (expr, answer)

        async def all_up() -> bool:
            up = await get_json(f"{prom_url}/api/v1/query?query=up")
            return sorted((r["metric"]["job"], r["value"][1]) for r in up["data"]["result"]) == [
                ("ingest", "1"), ("jobs", "1"), ("pushd", "1"), ("restapi", "1")]
        await wait_for(all_up, 30, "every target up in Prometheus")

        async def fresh_feed_scraped() -> bool:
            got = await get_json(f"{prom_url}/api/v1/query?query=ingest_feed_last_update_timestamp_seconds")
            return len(got["data"]["result"]) >= 5
        await wait_for(fresh_feed_scraped, 30, "feed freshness scraped")
        assert _firing(await get_json(f"{prom_url}/api/v1/alerts"), "OddsFeedStale") == []

        procs["ingest"].stop()

        async def stale() -> bool:
            return bool(_firing(await get_json(f"{prom_url}/api/v1/alerts"), "OddsFeedStale"))
        await wait_for(stale, 60, "OddsFeedStale firing")
        firing = _firing(await get_json(f"{prom_url}/api/v1/alerts"), "OddsFeedStale")
        assert {a["labels"]["severity"] for a in firing} == {"critical"}
        assert all(a["annotations"]["runbook_url"].endswith("/OddsFeedStale.md") for a in firing)
        assert {a["labels"]["tier"] for a in firing} <= {"live", "upcoming", "scheduled"}
    finally:
        prom.stop()
        for p in procs.values():
            p.stop()


def test_the_sample_prometheus_and_alertmanager_configs_are_valid() -> None:
    out = subprocess.run([PROMTOOL, "check", "config", str(ROOT / "deploy" / "prometheus" / "prometheus.yml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    config = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
    out = subprocess.run(["/usr/bin/amtool", "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
