"""Profile GET/PATCH and preferences GET/PUT, validated, per user."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from restapi.keys import PG
from restapi.user.service import Preferences, get_preferences
from tests.restapi.auth.conftest import bearer, login

PROFILE = "/api/v1/user/profile"
PREFS = "/api/v1/user/preferences"
GOOD_PREFS: dict[str, Any] = {
    "odds_format": "decimal", "default_stake_cents": 2500, "timezone": "America/New_York",
    "notifications": {"bet_accepted": False, "bet_graded": True, "balance": True, "settlement": False,
                      "email": True},
    "accept_price_changes": "better",
}


async def test_profile_reads_and_patches_only_the_fields_sent(client: TestClient, users: dict[str, int]) -> None:
    auth = bearer(await login(client))
    profile = await (await client.get(PROFILE, headers=auth)).json()
    assert profile["id"] == users["player01"] and profile["phone"] is None and profile["role"] == "player"

    resp = await client.patch(PROFILE, json={"phone": "+1 555 0100", "email": " Ava@Example.COM "}, headers=auth)
    patched = await resp.json()
    assert resp.status == 200, patched
    assert patched["phone"] == "+1 555 0100" and patched["email"] == "ava@example.com"
    assert patched["display_name"] == profile["display_name"]
    resp = await client.patch(PROFILE, json={"phone": None}, headers=auth)
    assert (await resp.json())["phone"] is None and (await resp.json())["email"] == "ava@example.com"
    await login(client, "ava@example.com")


async def test_profile_refuses_someone_elses_email_and_bad_fields(client: TestClient) -> None:
    auth = bearer(await login(client))
    resp = await client.patch(PROFILE, json={"email": "player02@wagerbabe.test"}, headers=auth)
    assert resp.status == 409 and (await resp.json())["error"] == "email_taken"
    for bad in ({"display_name": ""}, {"email": "not-an-email"}, {"phone": "call me"}, {"role": "admin"},
                {"display_name": 5}):
        resp = await client.patch(PROFILE, json=bad, headers=auth)
        assert resp.status == 422, bad
    assert (await client.get(PROFILE)).status == 401


async def test_preferences_default_then_replace_and_stay_per_user(client: TestClient, users: dict[str, int]) -> None:
    one, two = bearer(await login(client, "player01")), bearer(await login(client, "player02"))
    defaults = await (await client.get(PREFS, headers=one)).json()
    assert defaults == Preferences().as_api() and defaults["accept_price_changes"] == "none"

    resp = await client.put(PREFS, json=GOOD_PREFS, headers=one)
    assert resp.status == 200 and await resp.json() == GOOD_PREFS
    assert await (await client.get(PREFS, headers=one)).json() == GOOD_PREFS
    assert await (await client.get(PREFS, headers=two)).json() == defaults
    # The read the betting group uses:
    prefs = await get_preferences(client.app[PG], users["player01"])
    assert prefs.accept_price_changes == "better" and prefs.odds_format == "decimal"


async def test_preferences_are_validated(client: TestClient) -> None:
    auth = bearer(await login(client))
    bad_values: list[tuple[str, Any]] = [
        ("odds_format", "fractional"), ("default_stake_cents", 0), ("default_stake_cents", "100"),
        ("default_stake_cents", 12.5), ("timezone", "Mars/Olympus"), ("timezone", "../../etc/passwd"),
        ("accept_price_changes", "sometimes"), ("notifications", {"bet_graded": "yes"}),
    ]
    for field, value in bad_values:
        resp = await client.put(PREFS, json={**GOOD_PREFS, field: value}, headers=auth)
        body = await resp.json()
        assert resp.status == 422 and field in body["details"], (field, value, body)
    partial = {k: v for k, v in GOOD_PREFS.items() if k != "timezone"}
    resp = await client.put(PREFS, json=partial, headers=auth)
    assert resp.status == 422 and "timezone" in (await resp.json())["details"]
