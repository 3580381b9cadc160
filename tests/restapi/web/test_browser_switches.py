"""Kill switches in real Chromium: the admin suspends a league on its page, and a player's open board
greys those prices out at once (pushd broadcast) and refuses a tap; releasing brings them back."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, expect

from tests.restapi.web.conftest import PHONE, Stack, login, shot
from tests.restapi.web.test_browser_player import LEAGUE, _open_board


async def test_admin_suspends_a_league_and_the_players_board_greys_out_live(
        stack: Stack, phone: BrowserContext, browser: Browser) -> None:
    player = await phone.new_page()
    await _open_board(player, stack)
    prices = player.locator("[id^='ev-'] .price:not([disabled])")
    await expect(prices.first).to_be_visible()
    await expect(player.locator(".price.suspended")).to_have_count(0)

    admin_ctx = await browser.new_context(viewport=PHONE)
    try:
        admin = await admin_ctx.new_page()
        await login(admin, stack.base, "admin", "admin-pass-123", "/agent")
        await admin.click("nav a[href='/agent/switches']")
        await admin.wait_for_url(f"{stack.base}/agent/switches")
        await expect(admin.locator("#switch-owner")).to_contain_text("House switches")
        await admin.select_option("#switch-form select[name=scope]", "league")
        await admin.fill("#switch-form input[name=target]", LEAGUE)
        await admin.fill("#switch-form input[name=reason]", "Feed looks wrong")
        await admin.click("#switch-form button[type=submit]")
        row = admin.locator(f"#switches tr[data-target='{LEAGUE}']")
        await expect(row).to_have_attribute("data-suspended", "true")
        await expect(admin.locator("#switch-audit li").first).to_contain_text("suspended")
        await shot(admin, "switches_admin")

        # The player's board, open all along, greys every price of the league and refuses a tap.
        await expect(player.locator("[id^='ev-'] .price:not(.suspended)")).to_have_count(0)
        first = player.locator("[id^='ev-'] .price:not([disabled])").first
        await expect(first).to_have_attribute("aria-disabled", "true")
        await first.click(force=True)  # aria-disabled: playwright would wait for it to enable
        await expect(first).to_have_attribute("aria-pressed", "false")
        await expect(player.locator("#toasts")).to_contain_text("Feed looks wrong")
        await shot(player, "switches_board_suspended")

        await admin.fill("#switch-form input[name=reason]", "Feed fixed")
        await row.locator("button").click()
        await expect(row).to_have_attribute("data-suspended", "false")
        await expect(player.locator(".price.suspended")).to_have_count(0)
    finally:
        await admin_ctx.close()
