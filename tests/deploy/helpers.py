"""Helpers of the deploy tests: the rule files, real service processes and a real Prometheus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.conftest import ROOT
from tests.helpers import wait_for

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts_test.yml"
RUNBOOKS = ROOT / "docs" / "runbooks"
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
RUNBOOK_PREFIX = "https://github.com/wagerbabe/wagerbabe/blob/main/docs/runbooks/"


def load_rules(path: Path = RULES) -> list[dict[str, Any]]:
    """Every rule of a rule file, in order."""
    doc = yaml.safe_load(path.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


class Proc:
    """A real process on a real port, ready when its ``/readyz`` (or ``ready_path``) answers 200."""

    def __init__(self, args: list[str], url: str, env: dict[str, str], ready_path: str = "/readyz",
                 log: Path | None = None) -> None:
        self.args, self.url, self.env, self.ready_path, self.log = args, url, env, ready_path, log
        self.proc: subprocess.Popen[bytes] | None = None

    async def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            tail = self.log.read_text()[-3000:] if self.log else ""
            raise AssertionError(f"{self.args} exited with {self.proc.returncode}: {tail}")
        try:
            async with aiohttp.ClientSession() as s, s.get(self.url + self.ready_path) as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    async def start(self) -> None:
        out = self.log.open("wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=out)
        await wait_for(self._ready, 30, f"{self.args[-1]} ready at {self.url}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def service(module: str, port: int, env: dict[str, str], log: Path) -> Proc:
    """``python -m <module>`` with its health port at ``port``."""
    return Proc([sys.executable, "-m", module], f"http://127.0.0.1:{port}", env, log=log)


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        r.raise_for_status()
        return await r.json()


async def get_text(url: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        r.raise_for_status()
        return await r.text()


def env_with(base: dict[str, str], **extra: str) -> dict[str, str]:
    return {**os.environ, **base, "LOG_LEVEL": "WARNING", **extra}



def dashboards() -> dict[str, dict[str, Any]]:
    """Every Grafana dashboard JSON of deploy/grafana by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(GRAFANA_DIR.glob("*.json"))}


def panel_exprs() -> list[str]:
    """Every PromQL expression of every dashboard panel."""
    return [t["expr"] for board in dashboards().values() for panel in board["panels"] for t in panel["targets"]]
