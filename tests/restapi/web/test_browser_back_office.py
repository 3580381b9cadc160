"""The agent back office in Chromium at 390 and 1366 px, on the demo book at a fixed instant.

restapi and pushd run as real processes under libfaketime started at ``DEMO_NOW`` (the demo book is
seeded at the same instant), so weeks, due dates and report days never depend on the calendar.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiopg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from devtools.devservers import free_port
from restapi.seed import seed
from tests.restapi.agent.helpers import DEMO_NOW
from tests.restapi.web.conftest import Service, Stack, login, shot

FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


@pytest.fixture
async def office(base_env: dict[str, str]) -> AsyncIterator[Stack]:
    """restapi + pushd on the demo book, their clocks starting at DEMO_NOW."""
    if not FAKETIME.exists():
        pytest.fail("libfaketime is missing: apt-get install -y faketime", pytrace=False)
    await seed(base_env["DATABASE_URL"], now=DEMO_NOW)
    rest_port, push_port = free_port(), free_port()
    env = {**os.environ, **base_env, "RESTAPI_PORT": str(rest_port), "PUSHD_PORT": str(push_port),
           "RESTAPI_PUSH_URL": f"ws://127.0.0.1:{push_port}/ws", "API_RATE_LIMIT": "100000",
           "AUTH_LOGIN_LIMIT": "1000", "AGENT_DASHBOARD_TTL": "0", "LOG_LEVEL": "WARNING",
           "LD_PRELOAD": str(FAKETIME), "FAKETIME": f"@{DEMO_NOW:%Y-%m-%d %H:%M:%S}",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}
    st = Stack(Service("restapi", rest_port, env), Service("pushd", push_port, env), env)
    try:
        await st.push.start()
        await st.rest.start()
        yield st
    finally:
        st.rest.stop()
        st.push.stop()


async def _context(browser: Browser, size: str) -> BrowserContext:
    ctx = await browser.new_context(viewport=SIZES[size], has_touch=size == "phone", accept_downloads=True,
                                    timezone_id="UTC")
    return ctx


async def _no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"{page.url} scrolls sideways by {width}px"


async def _sql(stack: Stack, sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
    async with aiopg.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        return list(await cur.fetchall())


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_dashboard_tiles_chart_and_a_weekly_report_with_its_csv(office: Stack, browser: Browser, size: str,
                                                                      tmp_path: Path) -> None:
    ctx = await _context(browser, size)
    errors: list[str] = []
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await login(page, office.base, "agent1", "agent-pass-123", "/agent")
        await expect(page.locator("#kpis")).to_have_attribute("aria-busy", "false")
        ((n, cents),) = await _sql(office, """
            SELECT count(*)::int, sum(abs(s.figure_cents) - s.paid_cents)::bigint FROM settlements s
              JOIN settlement_cycles c ON c.id = s.cycle_id WHERE s.status = 'pending' AND c.due_at >= %(now)s""",
                                   {"now": DEMO_NOW})
        assert isinstance(n, int) and isinstance(cents, int) and n > 0
        tile = page.locator(".kpi").filter(has_text="Pending settlements").locator(".kpi-value")
        await expect(tile).to_have_text(f"{n} · ${cents // 100:,}.{cents % 100:02d}")
        await expect(page.locator("#chart svg text.axis-title")).to_have_count(2)
        assert await page.locator("#chart svg rect").count() >= 20
        await expect(page.locator("#exposure tfoot")).to_contain_text("All open bets")
        await _no_sideways_scroll(page)
        await shot(page, f"office_dashboard_{size}")

        # The closed week Nov 24-30 (agent1 closes Tuesdays 00:00 UTC): the page asks for exactly it.
        await page.click("nav.tabs a[href='/agent/reports']")
        await expect(page.locator("#report tbody")).to_have_attribute("aria-busy", "false")
        form = page.locator("#report-form")
        await form.locator("select[name=kind]").select_option("customers")
        await form.locator("select[name=agent_id]").select_option(label="agent1 (own book)")
        await form.locator("input[name=from]").fill("2026-11-24")
        await form.locator("input[name=to]").fill("2026-11-30")
        await form.locator("button[type=submit]").click()
        await expect(page.locator("#range")).to_contain_text("2026-11-24 to 2026-11-30, both days included")
        figures = dict(await _sql(office, """
            SELECT u.login, s.figure_cents FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id
              JOIN users u ON u.id = s.player_id
             WHERE c.agent_id = (SELECT id FROM users WHERE login = 'agent1') AND c.week_end = '2026-12-01'"""))
        assert figures
        for who, cents in figures.items():
            assert isinstance(cents, int)
            row = page.locator(f"#report tbody tr[data-login='{who}']")
            sign = "−" if cents < 0 else ""
            await expect(row.locator("td").nth(5)).to_have_text(f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}")
        await _no_sideways_scroll(page)
        await shot(page, f"office_weekly_report_{size}")
        async with page.expect_download() as info:
            await page.click("#csv")
        download = await info.value
        assert download.suggested_filename == "wagerbabe-customers-20261124-20261130.csv"
        target = tmp_path / download.suggested_filename
        await download.save_as(target)
        rows = list(csv.DictReader(io.StringIO(target.read_text())))
        for who, cents in figures.items():
            line = next(r for r in rows if r["Login"] == who)
            assert line["Net ($)"] == f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
            assert re.fullmatch(r"(\d{4}-\d\d-\d\dT[\d:.]+\+00:00)?", line["Last bet"])

        # A reversed range clears the table and says so in plain words.
        await form.locator("input[name=from]").fill("2026-11-30")
        await form.locator("input[name=to]").fill("2026-11-24")
        await form.locator("button[type=submit]").click()
        await expect(page.locator("p.error.msg")).to_contain_text("The end date is before the start date")
        await expect(page.locator("#report tbody tr")).to_have_count(0)
    finally:
        await ctx.close()
    assert not errors, errors


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_settlements_by_cycle_customers_by_owner_cashier_and_out_of_book(office: Stack, browser: Browser,
                                                                              size: str) -> None:
    ctx = await _context(browser, size)
    errors: list[str] = []
    try:
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await login(page, office.base, "agent1", "agent-pass-123", "/agent")

        await page.goto(f"{office.base}/agent/settlements")
        await expect(page.locator("#settlements")).to_have_attribute("aria-busy", "false")
        assert await page.locator("#settlements tbody[data-cycle]").count() >= 2
        await expect(page.locator("#settlements tbody[data-cycle] tr.cycle").first).to_contain_text("Week 2026-")
        row = page.locator("#settlements tr[data-settlement]").filter(has=page.locator("button")).first
        await row.locator("button").click()
        await expect(page.locator("#pay-form")).to_be_visible()
        # The form opens right under the row it pays.
        assert await row.evaluate("r => r.nextElementSibling.querySelector('#pay-form') !== null")
        await page.fill("#p-amount", "0")
        await page.click("#pay-form button[type=submit]")
        await expect(page.locator("#pay-form .error")).to_contain_text("must be more than $0.00")
        assert "_cents" not in await page.locator("#pay-form .error").inner_text()  # plain words, no field names
        await _no_sideways_scroll(page)
        await shot(page, f"office_settlements_{size}")
        await page.click("#pay-cancel")

        await page.goto(f"{office.base}/agent/customers")
        filters = page.locator("#customer-filters")
        await expect(filters.locator("select[name=agent_id] option")).to_have_count(3)
        await filters.locator("select[name=agent_id]").select_option(label="agent2 (sub-agent)")
        await filters.locator("button[type=submit]").click()
        await expect(page.locator("#customers tbody tr")).to_have_count(8)
        for text in await page.locator("#customers tbody tr td:nth-child(3)").all_inner_texts():
            assert text == "agent2"
        await page.click("#customers thead th:nth-child(4) button")  # sort by balance
        balances = [int(v) for v in await page.locator("#customers tbody td:nth-child(4)").evaluate_all(
            "cells => cells.map(c => c.dataset.v)")]
        assert balances == sorted(balances)
        await _no_sideways_scroll(page)
        await shot(page, f"office_customers_{size}")

        # Bring a book over: the check lists each problem, then the fixed file imports once.
        await page.click("#import-box summary")
        bad = "login,name,email,credit_limit,opening_balance\nnew-" + size + ",New One,,lots,10\n"
        await page.set_input_files("#i-file", files=[{"name": "book.csv", "mimeType": "text/csv",
                                                      "buffer": bad.encode()}])
        await page.click("#import-form button[type=submit]")
        problems = page.locator("#import-rows tbody tr ul.problems li")
        await expect(problems).to_have_count(2)
        await expect(problems.first).to_have_text("Give an email or a phone number so the player can be reached")
        await expect(page.locator("#import-run")).to_be_disabled()
        good = f"login,name,phone,credit_limit,opening_balance\nnew-{size},New One,+1 555 0123,500,-20.50\n"
        await page.set_input_files("#i-file", files=[{"name": "book.csv", "mimeType": "text/csv",
                                                      "buffer": good.encode()}])
        await page.click("#import-form button[type=submit]")
        await expect(page.locator("#import-form .ok")).to_have_text(
            "1 customer checked: every row looks right. Import when ready.")
        await page.click("#import-run")
        await expect(page.locator("#import-form .ok")).to_have_text("Imported 1 customer.")
        await expect(page.locator("#import-rows tbody a")).to_contain_text("/reset-password?token=")
        ((balance,),) = await _sql(office, "SELECT balance_cents FROM users WHERE login = %(l)s", {"l": f"new-{size}"})
        assert balance == -2050
        await _no_sideways_scroll(page)
        await shot(page, f"office_import_{size}")

        await page.goto(f"{office.base}/agent/cashier")
        await expect(page.locator("#tx tbody")).to_have_attribute("aria-busy", "false")
        for text in await page.locator("#tx tbody td:nth-child(4)").all_inner_texts():
            assert text != "$0.00"
        await page.locator("#tx-filters select[name=type]").select_option("settlement")
        await expect(page.locator("#tx tbody tr td:nth-child(3)").first).to_have_text("Settlement")
        await _no_sideways_scroll(page)

        await page.goto(f"{office.base}/agent/agents")
        await expect(page.locator("#agents tbody tr")).to_have_count(2)
        await expect(page.locator("#agents tfoot")).to_contain_text("Whole tree")
        await _no_sideways_scroll(page)
        await shot(page, f"office_agents_{size}")

        # agent2 opens one of agent1's own players: no form, no buttons.
        ((outsider,),) = await _sql(office, "SELECT min(id) FROM users WHERE role = 'player' AND agent_id = "
                                            "(SELECT id FROM users WHERE login = 'agent1')")
        page = await (sub := await _context(browser, size)).new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await login(page, office.base, "agent2", "agent-pass-123", "/agent")
        await page.goto(f"{office.base}/agent/customers/{outsider}")
        await expect(page.locator("#cust-title")).to_have_text("This customer is not in your book")
        await expect(page.locator("#limits-form")).to_be_hidden()
        await expect(page.locator("#toggle-status")).to_be_hidden()
        await expect(page.locator("#cust-summary")).to_be_hidden()
        await shot(page, f"office_out_of_book_{size}")
        await sub.close()
    finally:
        await ctx.close()
    assert not errors, errors
