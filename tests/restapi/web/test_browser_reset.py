"""Password reset in real Chromium through a real SMTP server: mailed link, new password, log in."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext, expect

from tests.helpers import Inbox, wait_for
from tests.restapi.web.conftest import Stack, login, shot


@pytest.fixture
def stack_env(smtp: tuple[Inbox, int]) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp[1])}


async def test_player_resets_the_password_from_the_mailed_link_and_logs_in(
    stack: Stack, phone: BrowserContext, smtp: tuple[Inbox, int]
) -> None:
    box, _port = smtp
    page = await phone.new_page()
    await page.goto(f"{stack.base}/login")
    await page.click("a[href='/reset-password']")
    await page.fill("#email", "not-an-email")
    await page.click("#reset-request button[type=submit]")
    await expect(page.locator("#reset-request .error")).to_contain_text("email")
    await page.fill("#email", "player05@wagerbabe.test")
    await page.click("#reset-request button[type=submit]")
    await expect(page.locator("#reset-request .ok")).to_contain_text("reset link is on its way")
    await shot(page, "reset")
    await wait_for(lambda: bool(box.messages), 15, "the reset mail")
    body = box.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(r"(http://\S+/reset-password\?token=\S+)", body)
    assert link and link.group(1).startswith(stack.base)
    await page.goto(link.group(1))
    await expect(page.locator("#reset-confirm")).to_be_visible()
    await expect(page.locator("#reset-request")).to_be_hidden()
    await page.fill("#new-password", "a-brand-new-pass-1")
    await page.click("#reset-confirm button[type=submit]")
    await expect(page.locator("#reset-confirm .ok")).to_contain_text("Password changed")
    await login(page, stack.base, "player05", "a-brand-new-pass-1", "/sports")
