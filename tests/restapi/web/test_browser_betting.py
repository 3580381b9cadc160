"""Betting in real Chromium: a 3-leg parlay through a price-change prompt, then the bet in history."""

from __future__ import annotations

import re
import time

from playwright.async_api import Browser, BrowserContext, expect

from tests.helpers import scaled
from tests.restapi.web.conftest import Stack, shot, watch_csp
from tests.restapi.web.helpers import contrast
from tests.restapi.web.test_browser_player import LEAGUE, _new_price, _open_board


async def test_player_builds_a_three_leg_parlay_accepts_a_price_change_and_sees_it_in_history(
    stack: Stack, phone: BrowserContext
) -> None:
    page = await phone.new_page()
    await _open_board(page, stack)
    cards = page.locator(".game")
    keys = []
    for i in range(3):  # one moneyline from each of three games
        button = cards.nth(i).locator(".price.h2h:not([disabled])").first
        keys.append(await button.get_attribute("data-sel"))
        await button.click()
        await expect(button).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#slip-count")).to_have_text("3")

    await page.click("#slip-open")
    await page.check("input[name=slip-mode][value=parlay]")
    await page.fill("#slip-stake", "10")
    payout = re.compile(r"^Parlay [+−]\d+ · to win \$[\d,.]+ · returns \$\d")
    await expect(page.locator("#slip-payout")).to_have_text(payout)
    await expect(page.locator("#slip-place")).to_have_text("Place 3-leg parlay")

    # The first leg's price moves while the slip is open: the slip shows it, the server asks to confirm.
    event, book, market, outcome = (keys[0] or "").split("|")
    shown = await page.locator(f'#slip-legs li[data-sel="{keys[0]}"] strong').inner_text()
    price = _new_price(shown)
    await stack.publish(LEAGUE, [{"event": event, "book": book, "market": market, "outcome": outcome,
                                  "price": price, "point": None, "t": int(time.time() * 1000)}])
    await expect(page.locator(f'#slip-legs li[data-sel="{keys[0]}"] .moved')).to_have_text(f" → now +{price}")
    await page.click("#slip-place")
    prompt = page.locator("#slip-prompt")
    await expect(prompt).to_be_visible()
    await expect(prompt).to_contain_text(f"{outcome} · Moneyline: was {shown} now +{price}")
    # Readable: the prompt's text and its button keep at least 4.5:1 against what is behind them.
    for sel in ("#slip-prompt p", "#slip-prompt li", "#slip-accept"):
        assert await contrast(page, sel) >= 4.5, sel
    await shot(page, "slip_price_change")
    await page.click("#slip-accept")
    done = page.locator("#slip-receipt")
    await expect(done).to_contain_text("Bet placed: #")
    await expect(done).to_contain_text("(parlay)")
    bet_id = re.search(r"#(\d+)", await done.inner_text()).group(1)  # type: ignore[union-attr]
    await expect(page.locator("#slip-count")).to_have_text("0")
    await shot(page, "slip_placed")

    await page.click("#slip-receipt a[href='/history']")
    await page.wait_for_url(f"{stack.base}/history")
    card = page.locator(f"article[data-bet='{bet_id}']")
    await expect(card).to_contain_text("3-leg parlay · Open")
    await expect(card.locator("li")).to_have_count(3)
    await expect(card).to_contain_text(f"+{price}")  # the accepted new price
    await shot(page, "history")
    await page.select_option("#history-filters select[name=status]", "won")
    await page.click("#history-filters button[type=submit]")
    await expect(card).to_have_count(0)  # open, so not among the won bets (the seed's won bets are)
    for status in await page.locator("#history article.bet h2 .status").all_inner_texts():
        assert status == "Won", status
    await page.select_option("#history-filters select[name=status]", "open")
    await page.select_option("#history-filters select[name=type]", "parlay")
    await page.click("#history-filters button[type=submit]")
    await expect(page.locator(f"article[data-bet='{bet_id}']")).to_be_visible()


async def test_the_slip_follows_the_player_to_a_second_device(
    stack: Stack, phone: BrowserContext, browser: Browser
) -> None:
    page = await phone.new_page()
    await _open_board(page, stack)
    button = page.locator(".game").first.locator(".price.h2h:not([disabled])").first
    key = await button.get_attribute("data-sel")
    async with page.expect_response(lambda r: r.url.endswith("/betting/slip") and r.request.method == "PUT"):
        await button.click()
    await expect(page.locator("#slip-count")).to_have_text("1")

    laptop = await browser.new_context(viewport={"width": 1280, "height": 800})
    violations = await watch_csp(laptop)
    try:
        other = await laptop.new_page()
        await _open_board(other, stack)  # another login: another session, same player
        await expect(other.locator("#slip-count")).to_have_text("1")
        await expect(other.locator(f'.price[data-sel="{key}"]')).to_have_attribute("aria-pressed", "true")
        async with other.expect_response(lambda r: r.url.endswith("/betting/slip") and r.request.method == "PUT"):
            await other.locator(f'.price[data-sel="{key}"]').click()  # removed on the laptop...
        await expect(other.locator("#slip-count")).to_have_text("0")
        assert not violations, violations
    finally:
        await laptop.close()
    await page.reload()  # ...is gone on the phone after a reload
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=scaled(15_000))
    await expect(page.locator("#slip-count")).to_have_text("0")
    await expect(page.locator(f'.price[data-sel="{key}"]')).to_have_attribute("aria-pressed", "false")
