"""The web app's session in real Chromium: no token where page scripts can read it, the refresh token
in an httpOnly SameSite=Strict cookie, and a reload that stays logged in through that cookie."""

from __future__ import annotations

from playwright.async_api import BrowserContext, Request, expect

from tests.restapi.web.conftest import Stack, login

# Everything a script on the page (an injected one included) could read.
READABLE = """() => JSON.stringify({
  session: Object.fromEntries(Object.entries(sessionStorage)),
  local: Object.fromEntries(Object.entries(localStorage)),
  cookie: document.cookie,
})"""


async def test_tokens_are_out_of_page_scripts_reach_and_a_reload_keeps_the_login(
    stack: Stack, phone: BrowserContext
) -> None:
    page = await phone.new_page()
    bearers: list[str] = []  # the access tokens the page sent, in order
    refreshes: list[int] = []  # statuses of the page's refresh calls

    def on_request(req: Request) -> None:
        auth = req.headers.get("authorization", "")
        if auth.startswith("Bearer ") and (not bearers or bearers[-1] != auth[7:]):
            bearers.append(auth[7:])

    page.on("request", on_request)
    page.on("response", lambda r: refreshes.append(r.status) if r.url.endswith("/api/v1/auth/refresh") else None)
    await login(page, stack.base, "player01", "player-pass-123", "/sports")
    await expect(page.locator("#sidebar .vrow[data-league]").first).to_be_visible()
    await expect(page.locator("#balance")).not_to_be_empty()
    # Each page load starts with no token in memory and gets one through the cookie.
    assert bearers and refreshes and set(refreshes) == {200}
    access = bearers[-1]

    cookies = [c for c in await phone.cookies() if c["name"] == "wb_refresh"]
    assert len(cookies) == 1
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    assert cookies[0]["path"] == "/api/v1/auth/refresh"
    readable = await page.evaluate(READABLE)
    assert access not in readable and cookies[0]["value"] not in readable and "wb_refresh" not in readable

    # A reload loses the in-memory access token; the cookie brings a new one, and the page works.
    await page.reload()
    await expect(page.locator("#sidebar .vrow[data-league]").first).to_be_visible()
    assert page.url == f"{stack.base}/sports"
    await expect(page.locator("#balance")).not_to_be_empty()
    assert set(refreshes) == {200} and bearers[-1] != access
    new_cookie = [c for c in await phone.cookies() if c["name"] == "wb_refresh"][0]
    assert new_cookie["value"] != cookies[0]["value"]  # rotated
    assert access not in await page.evaluate(READABLE)

    # Log out (on a phone, from the Account page: the header has no room for it): the cookie is gone,
    # and the protected page sends the visitor to log in.
    await page.goto(f"{stack.base}/profile")
    await page.click("#account-logout")
    await page.wait_for_url(f"{stack.base}/login")
    assert not [c for c in await phone.cookies() if c["name"] == "wb_refresh"]
    await page.goto(f"{stack.base}/sports")
    await page.wait_for_url(f"{stack.base}/login?next=%2Fsports")
