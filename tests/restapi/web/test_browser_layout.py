"""Every page at every common width in real Chromium: no sideways scroll, the slip one tap away, no CSP
violation, axe-core clean; a tap-only bet at 390x844; the keyboard path from any price to the slip."""

from __future__ import annotations

import re

import aiopg
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.helpers import scaled
from tests.restapi.web.conftest import PHONE, Stack, login, shot
from tests.restapi.web.helpers import WIDTHS, axe_serious, csp_violations, layout_at, watch

LEAGUE = "basketball_nba"
# Every expectation here waits on a loaded machine: stretch playwright's 5 s default with the suite's factor.
expect.set_options(timeout=scaled(5_000))
READY = {"/sports": "#sidebar[aria-busy=false]", "/live": "#board[aria-busy=false]",
         "/history": "#history[aria-busy=false]", "/profile": "#prefs-form[aria-busy=false]", "/agent": "#kpis"}
IN_SLIP = "document.activeElement.id === 'slip-open' || !!document.activeElement.closest('#slip')"


async def _ready(page: Page, path: str) -> None:
    key = "/league" if path.startswith("/league") else "/event" if path.startswith("/event") else path
    sel = READY.get(key, "#board[aria-busy=false]" if key in ("/league", "/event") else "main")
    await expect(page.locator(sel).first).to_be_attached(timeout=scaled(15_000))
    await page.wait_for_load_state("load")


async def _sweep(page: Page, base: str, paths: list[str], slip: bool, problems: list[str]) -> None:
    """Each page at each width, then axe-core and a screenshot at 390x844."""
    for path in paths:
        await page.set_viewport_size(PHONE)
        await page.goto(f"{base}{path}")
        await _ready(page, path)
        for width in WIDTHS:
            m = await layout_at(page, width, 844 if width < 700 else 900, slip)
            if m["scroll"] > m["inner"]:
                problems.append(f"{path} at {width}: scrolls sideways ({m['scroll']} > {m['inner']})")
            if m["slip"] != "ok":
                problems.append(f"{path} at {width}: slip trigger {m['slip']}")
        await page.set_viewport_size(PHONE)
        problems += [f"{path}: axe {v}" for v in await axe_serious(page)]
        problems += [f"{path}: CSP {v}" for v in await csp_violations(page)]
        name = re.sub(r"[^a-z0-9]+", "_", path.strip("/")) or "root"
        await shot(page, f"w390_{name}")


async def test_every_page_fits_every_width_keeps_the_slip_in_reach_and_is_axe_clean(
    stack: Stack, browser: Browser
) -> None:
    async with aiopg.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        await cur.execute("SELECT id FROM users WHERE login = 'player01'")
        (player_id,) = await cur.fetchone()
    problems: list[str] = []
    ctx = await browser.new_context(viewport=PHONE, has_touch=True)
    await watch(ctx)
    try:
        page = await ctx.new_page()
        await _sweep(page, stack.base, ["/login", "/reset-password", "/offline"], False, problems)
        await login(page, stack.base, "player01", "player-pass-123", "/sports")
        await page.goto(f"{stack.base}/league/{LEAGUE}")
        event = (await page.locator(".game .teams").first.get_attribute("href")) or ""
        await _sweep(page, stack.base, ["/sports", "/live", f"/league/{LEAGUE}", event, "/history", "/profile"],
                     True, problems)
    finally:
        await ctx.close()
    ctx = await browser.new_context(viewport=PHONE, has_touch=True)
    await watch(ctx)
    try:
        page = await ctx.new_page()
        await login(page, stack.base, "agent1", "agent-pass-123", "/agent")
        await _sweep(page, stack.base, ["/agent", "/agent/customers", f"/agent/customers/{player_id}", "/agent/cashier",
                                        "/agent/settlements", "/agent/reports"], False, problems)
    finally:
        await ctx.close()
    assert not problems, "\n".join(problems)


async def _tap(page: Page, selector: str) -> None:
    await page.locator(selector).first.scroll_into_view_if_needed()
    await page.locator(selector).first.tap()


async def test_a_player_places_a_parlay_by_taps_alone_and_finds_it_with_its_legs_in_history(
    stack: Stack, phone: BrowserContext
) -> None:
    await watch(phone, axe=False)
    page = await phone.new_page()
    await page.goto(f"{stack.base}/login")
    await _tap(page, "#login")
    await page.fill("#login", "player01")
    await page.fill("#password", "player-pass-123")
    await _tap(page, "#login-form button[type=submit]")
    await page.wait_for_url(f"{stack.base}/sports")
    await _tap(page, f"a[data-league={LEAGUE}]")
    await page.wait_for_url(f"{stack.base}/league/{LEAGUE}")
    await expect(page.locator("#board")).to_have_attribute("aria-busy", "false")
    # The board: one row per game; at least four whole games above the tab bar of a 390x844 phone.
    whole = await page.evaluate("""() => {
        const bar = document.querySelector(".tabbar").getBoundingClientRect().top;
        return [...document.querySelectorAll(".game")].filter((g) => g.getBoundingClientRect().bottom <= bar).length;
    }""")
    assert whole >= 4, whole
    first = page.locator(".game").first
    assert await first.locator(".price").count() == 6  # spread, total, moneyline for each team
    label = await first.locator(".price.spreads").first.text_content() or ""  # its accessible name
    assert re.search(r"spread [+−]?\d.* at \w+", label), label  # the book of the best price is named
    await shot(page, "journey_board")

    picked = []
    for i in range(3):
        button = page.locator(".game").nth(i).locator(".price.h2h:not([disabled])").first
        picked.append(await button.text_content())
        await button.tap()
        await expect(button).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#slip-count")).to_have_text("3")
    await _tap(page, "#slip-open")
    await expect(page.locator("#slip")).to_be_visible()
    await _tap(page, "input[name=slip-mode][value=parlay]")
    await page.fill("#slip-stake", "10")
    await expect(page.locator("#slip-payout")).to_contain_text("to win $")
    await _tap(page, "#slip-place")
    receipt = page.locator("#slip-receipt")
    await expect(receipt).to_contain_text("Bet placed: #")
    bet_id = re.search(r"#(\d+)", await receipt.locator("h3").inner_text()).group(1)  # type: ignore[union-attr]
    await expect(receipt.locator("li")).to_have_count(3)
    for text in ("Moneyline", "Stake", "$10.00", "To win", "Placed"):
        await expect(receipt).to_contain_text(text)
    await shot(page, "journey_receipt")
    # The receipt stays: over the next page and back, until the player dismisses it.
    await _tap(page, ".tabbar a[href='/sports']")
    await page.wait_for_url(f"{stack.base}/sports")
    await expect(page.locator("#slip-stake")).to_have_value("10")  # the typed stake follows the player
    await _tap(page, "#slip-open")
    await expect(page.locator("#slip-receipt")).to_contain_text(f"#{bet_id}")
    await _tap(page, "#slip-receipt a[href='/history']")
    await page.wait_for_url(f"{stack.base}/history")
    card = page.locator(f"article[data-bet='{bet_id}']")
    await expect(card).to_contain_text("3-leg parlay")
    await expect(card).to_contain_text("Open")
    legs = card.locator("li[data-leg]")
    await expect(legs).to_have_count(3)
    for i in range(3):
        text = await legs.nth(i).inner_text()
        assert "Moneyline" in text and "Pending" in text and "Game " in text, text
        assert re.search(r"[+−]\d{3}", text) and re.search(r"DraftKings|FanDuel|BetMGM|Caesars|BetRivers|Bovada", text)
    await expect(page.locator("#acct-risk")).to_have_text(re.compile(r"^\$[\d,]+\.\d\d$"))
    await shot(page, "journey_history")
    await _tap(page, "#slip-open")
    await _tap(page, "#receipt-done")
    await expect(page.locator("#slip-receipt")).to_be_hidden()
    await page.reload()
    await expect(page.locator("#slip-receipt")).to_be_hidden()  # dismissed for good
    assert await csp_violations(page) == []


async def test_history_shows_the_seeded_open_bets_with_the_money_figures_labelled(
    stack: Stack, phone: BrowserContext
) -> None:
    page = await phone.new_page()
    await login(page, stack.base, "player01", "player-pass-123", "/sports")
    await _tap(page, ".tabbar a[href='/history']")
    await expect(page.locator("#history")).to_have_attribute("aria-busy", "false")
    for label in ("Balance", "Available credit", "Pending risk"):
        await expect(page.locator("#account")).to_contain_text(label)
    risk = await page.locator("#acct-risk").inner_text()
    await page.select_option("#history-filters select[name=status]", "open")
    await page.click("#history-filters button[type=submit]")
    await expect(page.locator("#history")).to_have_attribute("aria-busy", "false")
    if risk != "$0.00":  # the seed's open bets hold this risk: they must be listed
        await expect(page.locator("#history article.bet").first).to_contain_text("Open")
    await page.select_option("#history-filters select[name=type]", "parlay")
    await page.click("#history-filters button[type=submit]")
    await expect(page.locator("#history")).to_have_attribute("aria-busy", "false")
    for text in await page.locator("#history article.bet h2").all_inner_texts():
        assert "parlay" in text, text


async def _tabs_to_slip(page: Page, limit: int = 10) -> int:
    for n in range(1, limit + 1):
        await page.keyboard.press("Tab")
        if await page.evaluate(IN_SLIP):
            return n
    return limit + 1


async def test_from_any_price_the_slip_is_at_most_ten_tabs_away_and_a_skip_link_leads_there(
    stack: Stack, browser: Browser
) -> None:
    for viewport in (PHONE, {"width": 1366, "height": 900}):
        ctx = await browser.new_context(viewport=viewport)
        try:
            page = await ctx.new_page()
            await login(page, stack.base, "player01", "player-pass-123", "/sports")
            await page.goto(f"{stack.base}/league/{LEAGUE}")
            await expect(page.locator("#board")).to_have_attribute("aria-busy", "false")
            prices = page.locator("#board .price:not([disabled])")
            count = await prices.count()
            assert count > 20
            for index in (0, count // 2, count - 1):
                await prices.nth(index).focus()
                assert await _tabs_to_slip(page) <= 10, (viewport, index)
            # Arrow keys walk the board (it is one Tab stop): right to the next price, down to the next game.
            await prices.nth(0).focus()
            await page.keyboard.press("ArrowRight")
            second = await prices.nth(1).get_attribute("data-slot")
            assert await page.evaluate("document.activeElement.dataset.slot") == second
            await page.keyboard.press("ArrowDown")
            below = await page.locator(".game").nth(1).get_attribute("id")
            assert await page.evaluate("document.activeElement.closest('.game').id") == below
            # The slip reaches the server a moment after the tap (taps are batched into one PUT); a reload
            # before that PUT answers may find the server's older slip, so wait for it as a person would.
            async with page.expect_response(lambda r: r.url.endswith("/api/v1/betting/slip")
                                            and r.request.method == "PUT"):
                await page.keyboard.press("Enter")
            await expect(page.locator("#slip-count")).to_have_text("1")
            # The skip link is the second Tab stop of the page and opens the slip with focus in it.
            await page.reload()
            await expect(page.locator("#board")).to_have_attribute("aria-busy", "false")
            # The slip comes back from the server once the page has a token again (the cookie refresh).
            await expect(page.locator("#slip-count")).to_have_text("1")
            await page.keyboard.press("Tab")
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.id") == "skip-slip"
            await page.keyboard.press("Enter")
            await expect(page.locator("#slip")).to_be_visible()
            assert await page.evaluate("document.activeElement.id") == "slip-stake"
            await page.keyboard.press("Escape")  # a drawer closes, the desktop panel stays
            await page.locator(".price[aria-pressed=true]").first.focus()
            await page.keyboard.press("Enter")
            await expect(page.locator("#slip-count")).to_have_text("0")
        finally:
            await ctx.close()
