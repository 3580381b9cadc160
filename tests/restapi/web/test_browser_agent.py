"""The agent back office in real Chromium: dashboard, create a customer, limits, cashier, settlement, CSV."""

from __future__ import annotations

import re
from pathlib import Path

import aiopg
from playwright.async_api import BrowserContext, expect

from tests.restapi.web.conftest import Stack, layout_shift, login, shot


async def _balance(stack: Stack, login_name: str) -> int:
    async with aiopg.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        await cur.execute("SELECT balance_cents FROM users WHERE login = %(l)s", {"l": login_name})
        (cents,) = await cur.fetchone()
    return int(cents)


async def test_agent_creates_a_customer_credits_them_records_a_payment_and_downloads_csv(
    stack: Stack, phone: BrowserContext, tmp_path: Path
) -> None:
    page = await phone.new_page()
    page.on("dialog", lambda d: d.accept())  # the deactivate confirmation
    await login(page, stack.base, "agent1", "agent-pass-123", "/agent")

    # Dashboard: figures and a chart.
    await expect(page.locator("#kpis")).to_have_attribute("aria-busy", "false")
    await expect(page.locator("#kpis .kpi-label").first).to_have_text("Revenue this week")
    assert await page.locator("#chart svg rect").count() > 5
    assert await layout_shift(page) < 0.1
    await shot(page, "agent_dashboard")

    # Customers: search, then create one; a bad amount is refused in red first.
    await page.click("nav.tabs a[href='/agent/customers']")
    await expect(page.locator("#customers tbody")).to_have_attribute("aria-busy", "false")
    await page.fill("#customer-filters input[name=q]", "player01")
    await page.click("#customer-filters button[type=submit]")
    await expect(page.locator("#customers tbody tr")).to_have_count(1)
    await shot(page, "agent_customers")
    await page.click("#create-box summary")
    await page.fill("#c-login", "newbie1")
    await page.fill("#c-password", "newbie-pass-123")
    await page.fill("#c-name", "New Bie")
    await page.fill("#c-credit", "lots")
    await page.click("#create-form button[type=submit]")
    await expect(page.locator("#create-form .error")).to_contain_text("not an amount")
    assert "_cents" not in await page.locator("#create-form .error").inner_text()  # plain words, no field names
    await page.fill("#c-credit", "500")
    await page.click("#create-form button[type=submit]")
    await expect(page.locator("#create-form .ok")).to_have_text("Customer newbie1 created")
    await page.fill("#customer-filters input[name=q]", "newbie1")
    await page.click("#customer-filters button[type=submit]")
    await expect(page.locator("#customers tbody tr[data-login=newbie1]")).to_have_count(1)

    # Customer detail: edit limits, deactivate and reactivate.
    await page.click("#customers a:text('newbie1')")
    await expect(page.locator("#cust-title")).to_have_text("New Bie (newbie1)")
    await page.fill("#l-max", "50")
    await page.click("#limits-form button[type=submit]")
    await expect(page.locator("#limits-form .ok")).to_have_text("Limits saved")
    await page.click("#toggle-status")
    await expect(page.locator("#cust-status")).to_have_text("inactive")
    await page.click("#toggle-status")
    await expect(page.locator("#cust-status")).to_have_text("active")
    await shot(page, "agent_customer")

    # Cashier: credit $250 after a confirmation step.
    await page.click("#cashier-link")
    await page.wait_for_url(re.compile(r".*/agent/cashier\?player=newbie1$"))
    await page.fill("#m-amount", "250")
    await page.fill("#m-reason", "first deposit")
    await page.click("#cashier-form button[type=submit]")
    await expect(page.locator("#confirm-text")).to_have_text("Credit $250.00 (deposit) to newbie1?")
    assert await _balance(stack, "newbie1") == 0  # nothing moves before the confirmation
    await page.click("#confirm-yes")
    await expect(page.locator("#cashier-form .ok")).to_contain_text("Credited $250.00 to newbie1; balance $250.00")
    assert await _balance(stack, "newbie1") == 25_000
    await expect(page.locator("#tx tbody tr").first).to_contain_text("newbie1")
    await shot(page, "agent_cashier")

    # Settlements: record a payment by bank transfer on the first open settlement.
    await page.click("nav.tabs a[href='/agent/settlements']")
    await expect(page.locator("#settlements")).to_have_attribute("aria-busy", "false")
    row = page.locator("#settlements tbody tr[data-settlement]").filter(has=page.locator("button")).first
    sid = await row.get_attribute("data-settlement")
    who = await row.get_attribute("data-login")
    await row.locator("button").click()
    await expect(page.locator("#pay-form")).to_be_visible()
    await page.select_option("#p-method", "bank_transfer")
    await page.fill("#p-ref", "wire 42")
    await shot(page, "agent_settlements")
    await page.click("#pay-form button[type=submit]")
    await expect(page.locator("#toasts .ok")).to_contain_text(f"by bank transfer recorded for {who}")
    await expect(page.locator(f"#settlements tr[data-settlement='{sid}'] td").last).to_have_text("✓")
    async with aiopg.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        await cur.execute("SELECT method FROM settlement_payments WHERE settlement_id = %(s)s", {"s": int(sid or 0)})
        assert await cur.fetchall() == [("bank_transfer",)]

    # Reports: a table for the range and a CSV download.
    await page.click("nav.tabs a[href='/agent/reports']")
    await expect(page.locator("#report tbody")).to_have_attribute("aria-busy", "false")
    await expect(page.locator("#report thead th").first).to_have_text("Group")
    await shot(page, "agent_reports")
    async with page.expect_download() as info:
        await page.click("#csv")
    download = await info.value
    assert re.fullmatch(r"wagerbabe-performance-\d{8}-\d{8}\.csv", download.suggested_filename)
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0].startswith("Group,Key,Bets,Handle ($)") and len(lines) > 2
