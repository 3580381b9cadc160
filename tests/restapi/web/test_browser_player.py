"""The player's pages in real Chromium: log in, the sidebar, a live price change, resume, keyboard slip."""

from __future__ import annotations

import re
import time

import aiohttp
from playwright.async_api import BrowserContext, Page, expect

from shared import streams
from shared.redis import create_client
from tests.helpers import scaled
from tests.restapi.web.conftest import Stack, layout_shift, login, shot

LEAGUE = "basketball_nba"


async def _open_board(page: Page, stack: Stack) -> None:
    await login(page, stack.base, "player01", "player-pass-123", "/sports")
    await page.click(f"a[data-league={LEAGUE}]")
    await page.wait_for_url(f"{stack.base}/league/{LEAGUE}")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=scaled(15_000))


async def _first_h2h(page: Page) -> tuple[str, str, str, str]:
    """(event, book, outcome, selection key) of the first moneyline price on the board (its best book)."""
    key = await page.locator(".game .price.h2h[data-sel]:not([disabled])").first.get_attribute("data-sel")
    assert key
    event, book, _market, outcome = key.split("|")
    return event, book, outcome, key


def _new_price(text: str) -> int:
    """A price different from the one shown and better than any book's (so it becomes the board's best)."""
    shown = int(text.replace("−", "-").replace("+", ""))
    return 777 if shown != 777 else 888


async def test_player_logs_in_sees_the_sidebar_and_a_price_change_arrives_live(
    stack: Stack, phone: BrowserContext
) -> None:
    page = await phone.new_page()
    await page.goto(f"{stack.base}/sports")
    await page.wait_for_url(f"{stack.base}/login?next=%2Fsports")  # no session: to the login page
    await shot(page, "login")
    await page.fill("#login", "player01")
    await page.fill("#password", "wrong-password")
    await page.click("#login-form button[type=submit]")
    error = page.locator("#login-form .error")
    await expect(error).to_be_visible()
    await expect(error).to_have_class(re.compile(r"\berror\b"))
    await page.fill("#password", "player-pass-123")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(f"{stack.base}/sports")

    # The sidebar: 100+ leagues with game counts, only a window of them in the DOM (virtual list).
    first = page.locator("#sidebar .vrow[data-league]").first
    await expect(first).to_be_visible()
    total = int(await first.get_attribute("aria-setsize") or 0)
    rendered = await page.locator("#sidebar .vrow").count()
    assert total > 100 and rendered < total / 2, (total, rendered)
    nba = page.locator(f"a[data-league={LEAGUE}]")
    # Its name starts with its visible text, in order, plus words (label-in-name): "NBA, 2 live, 48 games".
    await expect(nba).to_have_accessible_name(re.compile(r"^NBA(, \d+ live)?, \d+ games$"))
    shown = re.findall(r"\w+", await nba.inner_text())
    assert re.findall(r"\w+", await nba.get_attribute("aria-label") or "")[: len(shown)] == shown, shown
    assert await layout_shift(page) < 0.1
    # Arrow keys walk the leagues; the list scrolls and renders ahead so focus never falls out of it.
    await first.focus()
    for _ in range(40):
        await page.keyboard.press("ArrowDown")
    pos = int(await page.evaluate("document.activeElement.getAttribute('aria-posinset')") or 0)
    assert pos > 40 and await page.evaluate("document.activeElement.classList.contains('vrow')")
    assert await page.locator("#sidebar .vrow").count() < total / 2
    await page.fill("#league-filter", "NBA")
    await expect(page.locator("#sidebar .vrow[data-league]")).to_have_count(1)
    await shot(page, "sports")
    await page.fill("#league-filter", "")

    await page.click(f"a[data-league={LEAGUE}]")
    await page.wait_for_url(f"{stack.base}/league/{LEAGUE}")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=scaled(15_000))
    await expect(page.locator(".game .updated").first).to_contain_text("ago")
    assert await layout_shift(page) < 0.1  # skeletons hold the space the rows take
    event, book, outcome, key = await _first_h2h(page)
    cell = page.locator(f'.price[data-sel="{key}"] .odds-value')
    price = _new_price(await cell.inner_text())
    await stack.publish(LEAGUE, [{"event": event, "book": book, "market": "h2h", "outcome": outcome,
                                  "price": price, "point": None, "t": int(time.time() * 1000)}])
    await expect(cell).to_have_text(f"+{price}", timeout=scaled(10_000))
    await expect(page.locator(f'.price[data-sel="{key}"]')).to_have_class(re.compile(r"\b(up|down)\b"))
    await shot(page, "board")

    await page.click(f"#ev-{event} .teams")
    await page.wait_for_url(f"{stack.base}/event/{event}")
    await expect(page.locator(f'.price[data-sel="{key}"] .odds-value')).to_have_text(f"+{price}")
    # Every book and market, labelled: a table per market, one row per book, the title once.
    assert await page.locator("section.market h2").all_inner_texts() == ["Moneyline", "Spread", "Total"]
    assert await page.locator("section.market").first.locator("tbody tr").count() >= 2
    assert await page.locator("section.market thead th").first.inner_text() == "Sportsbook"
    assert await page.locator("h1, h2").filter(has_text=" @ ").count() == 1
    assert "-" not in "".join(await page.locator(".price .odds-value, .price small").all_inner_texts())  # U+2212 only
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=scaled(15_000))
    await shot(page, "event")


async def test_board_resumes_after_the_socket_is_cut_with_no_stale_price(stack: Stack, phone: BrowserContext) -> None:
    page = await phone.new_page()
    await _open_board(page, stack)
    event, book, outcome, key = await _first_h2h(page)
    cell = page.locator(f'.price[data-sel="{key}"] .odds-value')
    stack.push.kill()  # every socket of the node drops at once
    await expect(page.locator("#live")).to_have_attribute("data-state", "reconnecting", timeout=scaled(10_000))
    await expect(page.locator("#live")).to_have_text("Reconnecting…")
    price = _new_price(await cell.inner_text())
    # While the client is away the price moves; it must arrive by replay from (epoch, offset).
    await stack.publish(LEAGUE, [{"event": event, "book": book, "market": "h2h", "outcome": outcome,
                                  "price": price, "point": None, "t": int(time.time() * 1000)}])
    await stack.push.start()
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=scaled(20_000))
    await expect(cell).to_have_text(f"+{price}", timeout=scaled(10_000))
    recovered = await page.evaluate(f"window.__wbLive.lastSubscribed.recovered['sport:{LEAGUE}']")
    assert recovered is True  # replayed from the offset, not a fresh snapshot


async def test_keyboard_only_navigation_through_the_slip(stack: Stack, phone: BrowserContext) -> None:
    page = await phone.new_page()
    await _open_board(page, stack)
    prices = page.locator(".game").first.locator(".price:not([disabled])")
    # Reach the board with Tab only (it is one Tab stop: the first game's link), step to its first price
    # with an arrow key, then add two selections with Enter and Space.
    await page.locator("body").focus()
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("!!document.activeElement.closest('#board')"):
            break
    else:
        raise AssertionError("Tab never reached the board")
    await page.keyboard.press("ArrowRight")
    assert await page.evaluate("document.activeElement.classList.contains('price')")
    await page.keyboard.press("Enter")
    await expect(page.locator("#slip-count")).to_have_text("1")
    await page.keyboard.press("ArrowRight")  # the board is one Tab stop: arrows move between prices
    await page.keyboard.press("Space")
    await expect(page.locator("#slip-count")).to_have_text("2")
    assert await prices.nth(0).get_attribute("aria-pressed") == "true"
    # The slip bar opens the drawer from the keyboard; focus moves into it.
    await page.locator("#slip-open").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#slip")).to_be_visible()
    assert await page.evaluate("document.activeElement.id") == "slip-stake"
    await page.keyboard.type("12.50")
    await shot(page, "slip")
    # Tab stays inside the open drawer (focus trap) all the way round.
    seen = set()
    for _ in range(12):
        await page.keyboard.press("Tab")
        seen.add(await page.evaluate("document.activeElement.closest('#slip') !== null"))
    assert seen == {True}
    # Remove a leg with the keyboard.
    await page.locator("#slip-legs li button").first.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#slip-count")).to_have_text("1")
    # Escape closes the drawer and gives focus back to the slip bar.
    await page.locator("#slip-stake").focus()
    await page.keyboard.press("Escape")
    await expect(page.locator("#slip")).to_be_hidden()
    assert await page.evaluate("document.activeElement.id") == "slip-open"


async def test_profile_switches_odds_to_decimal(stack: Stack, phone: BrowserContext) -> None:
    page = await phone.new_page()
    await login(page, stack.base, "player02", "player-pass-123", "/sports")
    await page.click(".tabbar a[href='/profile']")
    await page.wait_for_url(f"{stack.base}/profile")
    await expect(page.locator("#prefs-form")).to_have_attribute("aria-busy", "false")
    await page.check("input[name=odds_format][value=decimal]")
    await page.click("#prefs-form button[type=submit]")
    ok = page.locator("#prefs-form .ok")
    await expect(ok).to_have_text("Preferences saved")
    await page.fill("#default_stake", "abc")
    await page.click("#prefs-form button[type=submit]")
    error = page.locator("#prefs-form .error")
    await expect(error).to_have_text("Enter the default stake in dollars, e.g. 10 or 12.50")
    await shot(page, "profile")
    await page.goto(f"{stack.base}/league/{LEAGUE}")
    first = page.locator(".game .price.h2h:not([disabled]) .odds-value").first
    await expect(first).to_have_text(re.compile(r"^\d+\.\d\d$"))


async def test_offline_board_shows_the_last_odds_marked_stale(stack: Stack, phone: BrowserContext) -> None:
    page = await phone.new_page()
    await _open_board(page, stack)
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=scaled(15_000))
    await page.reload()  # now through the service worker, which keeps the page and the odds it served
    await expect(page.locator(".game").first).to_be_visible()
    first = await page.locator(".game .price:not([disabled]) .odds-value").first.inner_text()
    stack.rest.kill()
    stack.push.kill()
    await phone.set_offline(True)
    await page.reload()
    await expect(page.locator("#stale")).to_be_visible(timeout=scaled(10_000))
    await expect(page.locator("#stale")).to_contain_text("Offline: showing the odds saved")
    await expect(page.locator(".game .price:not([disabled]) .odds-value").first).to_have_text(first)
    await expect(page.locator("#live")).not_to_have_attribute("data-state", "live")
    await shot(page, "board_offline")
    # A page never opened on this device has no saved copy: the offline page says so in words.
    await page.goto(f"{stack.base}/league/soccer_epl")
    await expect(page.locator("h1")).to_have_text("You are offline")
    await shot(page, "offline_never_visited")


async def test_toasts_follow_the_players_notification_switches(stack: Stack, phone: BrowserContext) -> None:
    # The player switches "bet accepted" notifications off (as the profile API allows), then logs in.
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.base}/api/v1/auth/login",
                             json={"login": "player01", "password": "player-pass-123"}) as resp:
            tokens = await resp.json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        async with http.get(f"{stack.base}/api/v1/user/preferences", headers=auth) as resp:
            prefs = await resp.json()
        async with http.put(f"{stack.base}/api/v1/user/preferences", headers=auth,
                            json={**prefs, "notifications": {**prefs["notifications"], "bet_accepted": False}}) as resp:
            assert resp.status == 200, await resp.text()
    page = await phone.new_page()
    await _open_board(page, stack)
    redis = create_client(stack.env["REDIS_URL"])
    try:  # two private events in order: the first is switched off, the second is shown
        player = tokens["user"]["id"]
        await redis.xadd(streams.NOTIFY, streams.encode_notify(player, "bet.accepted", {"bet_id": 991}))
        await redis.xadd(streams.NOTIFY, streams.encode_notify(player, "bet.graded", {"bet_id": 992, "status": "won"}))
    finally:
        await redis.aclose()
    await expect(page.locator("#toasts")).to_contain_text("Bet #992 graded: won")
    # Checked at once, not awaited: toasts leave after 4 s, so waiting for "no #991" would always pass.
    # The frames arrive in order, so a #991 toast would be showing next to #992's.
    assert "Bet #991" not in await page.locator("#toasts").inner_text()
