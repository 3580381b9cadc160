"""Browser-test fixtures: Debian's chromium driven by playwright, against real restapi and pushd processes.

The stack runs each service as a real process on a real port against this test's PostgreSQL
database and Redis db, seeded with the demo book and with odds that the real ingest pipeline
produced from the simulator (110 leagues, so the sidebar needs its virtual list).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import aiopg
import orjson
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from devtools.devservers import free_port
from ingest.config import IngestSettings
from ingest.daemon import OddsPipeline
from ingest.providers.simulator import Simulator
from restapi.seed import seed
from shared import streams
from shared.config import load
from shared.daemon import DaemonContext
from shared.db import create_pool
from shared.redis import create_client
from tests.conftest import ROOT
from tests.helpers import wait_for

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
CLS_SCRIPT = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
}).observe({ type: "layout-shift", buffered: true });
"""
# Every CSP violation the page meets is reported to the test (issue 13: strict CSP, no inline script).
CSP_SCRIPT = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
}, true);
"""
UPDATE_ODDS = """
UPDATE odds SET price = %(price)s, point = %(point)s, last_update = to_timestamp(%(t)s / 1000.0)
 WHERE event_id = %(event)s AND book = %(book)s AND market = %(market)s AND outcome = %(outcome)s
"""


class Service:
    """One service (``python -m restapi`` / ``pushd``) as a real process on a fixed port."""

    def __init__(self, module: str, port: int, env: dict[str, str]) -> None:
        self.module, self.port, self.env = module, port, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    async def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode()[-3000:] if self.proc.stderr else ""
            raise AssertionError(f"{self.module} exited with {self.proc.returncode}: {err}")
        try:
            async with aiohttp.ClientSession() as s, s.get(f"{self.url}/readyz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    async def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", self.module], cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        await wait_for(self._ready, 30, f"{self.module} ready on {self.port}")

    def kill(self) -> None:
        """Cut every socket at once, as a crash or a network cut would."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()


@dataclass
class Stack:
    """The running services and the servers behind them."""

    rest: Service
    push: Service
    env: dict[str, str]
    leagues: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.rest.url

    async def publish(self, league: str, changes: list[dict[str, Any]]) -> str:
        """Write odds changes as ingest does: the catalog row in PostgreSQL (bets are priced from it), then
        XADD to ``odds:{league}`` and the snapshot update."""
        async with aiopg.connect(self.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
            for c in changes:
                await cur.execute(UPDATE_ODDS, c)
        redis = create_client(self.env["REDIS_URL"])
        try:
            snap = streams.snap_key(league)
            touched: dict[str, dict[str, Any]] = {}
            for c in changes:
                ev = touched.get(c["event"])
                if ev is None:
                    raw = await redis.hget(snap, c["event"])
                    assert raw is not None, f"event {c['event']} is not in {snap}"
                    ev = touched[c["event"]] = orjson.loads(raw)
                ev["odds"].setdefault(c["book"], {}).setdefault(c["market"], {})[c["outcome"]] = (
                    {"price": c["price"], "point": c["point"], "t": c["t"]})
            stream_id = await redis.xadd(streams.odds_stream(league), streams.encode_odds(changes))
            offset = stream_id.decode() if isinstance(stream_id, bytes) else str(stream_id)
            mapping = {k: orjson.dumps(v) for k, v in touched.items()} | {streams.SNAP_OFFSET: offset}
            await redis.hset(snap, mapping=mapping)  # type: ignore[arg-type]
            return offset
        finally:
            await redis.aclose()


async def fill_odds(env: dict[str, str], leagues: int = 110) -> None:
    """Run the real ingest pipeline over the simulator until every league has games and odds."""
    pg = await create_pool(env["DATABASE_URL"], 1, 4)
    redis = create_client(env["REDIS_URL"])
    try:
        pipeline = OddsPipeline(DaemonContext(pg, redis, 0), load(IngestSettings, env),
                                provider=Simulator(seed=7, leagues=leagues))
        await pipeline.poller.bootstrap()
        await pipeline.poller.tick()  # discovers the games
        await pipeline.poller.tick()  # fetches their odds
        await pipeline.store.refresh_sidebar()
    finally:
        await redis.aclose()
        pg.close()
        await pg.wait_closed()


@pytest.fixture
def stack_env() -> dict[str, str]:
    """Extra environment of the stack's services (a test module may override this fixture)."""
    return {}


@pytest.fixture
async def stack(base_env: dict[str, str], stack_env: dict[str, str]) -> AsyncIterator[Stack]:
    """restapi + pushd processes on real ports over a seeded book with simulated odds."""
    await seed(base_env["DATABASE_URL"])
    await fill_odds(base_env)
    rest_port, push_port = free_port(), free_port()
    env = {**os.environ, **base_env,
           "RESTAPI_PORT": str(rest_port), "PUSHD_PORT": str(push_port),
           "RESTAPI_PUSH_URL": f"ws://127.0.0.1:{push_port}/ws", "RESTAPI_PUBLIC_URL": f"http://127.0.0.1:{rest_port}",
           # One browser makes every call of a user from one IP: the per-user API limit is not under test here.
           "API_RATE_LIMIT": "100000", "AUTH_LOGIN_LIMIT": "1000",
           "PUSHD_RESCAN_INTERVAL": "0.5", "LOG_LEVEL": "WARNING", **stack_env}
    st = Stack(Service("restapi", rest_port, env), Service("pushd", push_port, env), env)
    try:
        await asyncio.gather(st.push.start(), st.rest.start())
        yield st
    finally:
        st.rest.stop()
        st.push.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium under playwright; a missing binary fails loudly (CI installs it in .ci/run)."""
    if not CHROMIUM.exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium); "
                    ".ci/run does this before the tests", pytrace=False)
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def watch_csp(ctx: BrowserContext) -> list[str]:
    """Record every Content-Security-Policy violation in ``ctx``'s pages (the list fills as they happen)."""
    violations: list[str] = []

    def report(_source: Any, what: str) -> None:
        violations.append(what)

    await ctx.expose_binding("__cspViolation", report)
    await ctx.add_init_script(CSP_SCRIPT)
    return violations


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A phone-sized browser context (390x844, touch) that records page errors and CSP violations:
    a test fails on either."""
    ctx = await browser.new_context(viewport=PHONE, has_touch=True, device_scale_factor=1, accept_downloads=True)
    errors: list[str] = []
    ctx.on("page", lambda p: p.on("pageerror", lambda e: errors.append(str(e))))
    violations = await watch_csp(ctx)
    # Sum the page's layout shifts (CLS) as they happen, for tests to read as window.__cls.
    await ctx.add_init_script(CLS_SCRIPT)
    try:
        yield ctx
        assert not errors, f"uncaught errors in the page: {errors}"
        assert not violations, f"Content-Security-Policy violations: {violations}"
    finally:
        await ctx.close()


async def shot(page: Page, name: str) -> None:
    """A phone-size screenshot of the page under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


async def layout_shift(page: Page) -> float:
    """The cumulative layout shift of the page so far."""
    return float(await page.evaluate("window.__cls"))


async def login(page: Page, base: str, who: str, password: str, landing: str) -> None:
    """Log in through the login page and wait for the landing page."""
    await page.goto(f"{base}/login")
    await page.fill("#login", who)
    await page.fill("#password", password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(f"{base}{landing}")
