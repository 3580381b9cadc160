"""Importing a book from a CSV: a dry run in plain words, one transaction, safe to repeat, ledger openings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiopg

from restapi.agent.book_import import check_rows
from restapi.app import create_app
from restapi.config import RestSettings
from restapi.ledger.verify import verify
from shared.config import load
from shared.db import create_pool
from shared.tokens import KeyRing, access_claims
from tests.helpers import Inbox, wait_for
from tests.restapi.agent.conftest import BOOK, Book

IMPORT = "/api/v1/agent/import"
GOOD = """login,name,email,phone,credit_limit,max_wager,min_wager,opening_balance
dora,Dora Lake,dora@x.test,,"1,000.00",250,5,-120.50
eddie,Eddie Fox,,+1 555 0199,500,,,75
"""
BAD = """Login,Name,Email,Phone,Credit limit,Max wager,Min wager,Opening balance,Colour
dora,Dora Lake,dora@x.test,,lots,250,500,-120.505,blue
alice,Not Alice,alice2@x.test,,0,,,0
x,,,,,,,
greg,Greg,bob@x.test,,10,,,0
"""


def test_every_problem_of_a_row_is_listed_in_plain_words() -> None:
    rows, file_problems = check_rows(BAD)
    assert file_problems == ['Unknown column "colour" (the columns are: login, name, email, phone, credit_limit, '
                             'max_wager, min_wager, opening_balance)']
    assert rows[0].problems == ['Credit limit "lots" is not an amount in dollars (for example 250 or 99.50)',
                                "Smallest bet is more than the largest bet",
                                'Opening balance "-120.505" has more than two decimals']
    assert rows[2].problems == ["Login must be 3 to 40 letters, digits, dots, dashes or underscores",
                                "Give an email or a phone number so the player can be reached"]
    assert check_rows("name,email\nx,y@z.test\n")[1][0].startswith('The first line must name the columns')


async def _import(book: Book, text: str, dry_run: bool) -> tuple[int, Any]:
    resp = await book.client.post(IMPORT, json={"csv": text, "dry_run": dry_run}, headers=book.auth("a"))
    return resp.status, await resp.json()


async def test_a_dry_run_lists_problems_and_changes_nothing(book: Book) -> None:
    status, body = await _import(book, BAD, True)
    assert status == 200 and body["ok"] is False
    assert body["message"].startswith("The file cannot be imported: Unknown column")
    problems = {r["login"]: r["problems"] for r in body["rows"]}
    assert {r["login"]: r["status"] for r in body["rows"]}["alice"] == "already imported"  # in A's own book
    assert "Email bob@x.test is already used by another account" in problems["greg"]
    resp = await book.client.post(IMPORT, json={"csv": "login,email\nzed,z@x.test\n", "dry_run": True},
                                  headers=book.auth("b"))
    assert (await resp.json())["rows"][0]["problems"] == []  # zed is agent B's own: already imported
    resp = await book.client.post(IMPORT, json={"csv": "login,email\nzed,z@x.test\n", "dry_run": True},
                                  headers=book.auth("a"))
    assert (await resp.json())["rows"][0]["problems"] == [
        "Login zed belongs to someone outside this book; pick another"]
    status, body = await _import(book, BAD.replace(",Colour", "").replace(",blue", ""), False)
    assert status == 200 and body["ok"] is False and body["counts"]["imported"] == 0
    assert await book.sql("SELECT count(*) FROM users WHERE login IN ('dora', 'greg')") == [(0,)]


async def test_import_opens_accounts_with_ledger_openings_once(book: Book) -> None:
    status, body = await _import(book, GOOD, True)
    assert status == 200 and body["ok"]
    assert body["message"] == "2 customers checked: every row looks right. Import when ready."
    assert [r["status"] for r in body["rows"]] == ["would be imported", "would be imported"]
    assert await book.sql("SELECT count(*) FROM users WHERE login IN ('dora', 'eddie')") == [(0,)]

    status, body = await _import(book, GOOD, False)
    assert status == 201 and body["message"] == "Imported 2 customers."
    rows = {r["login"]: r for r in body["rows"]}
    assert rows["dora"]["opening_balance"] == "-$120.50" and rows["eddie"]["credit_limit"] == "$500.00"
    # No public origin configured: nothing is mailed, and each link is shown to the agent as a path
    # of this site (a link is never built from the request's Host).
    assert all(r["setup_link"].startswith("/reset-password?token=") for r in rows.values())
    users = await book.sql("SELECT login, agent_id, balance_cents, credit_limit_cents, max_wager_cents, "
                           "min_wager_cents, password_hash FROM users WHERE login IN ('dora', 'eddie') ORDER BY 1")
    assert users == [("dora", 2, -12050, 100000, 25000, 500, None), ("eddie", 2, 7500, 50000, None, None, None)]
    entries = await book.sql("SELECT u.login, e.kind, e.amount_cents FROM ledger_entries e JOIN users u "
                             "ON u.id = e.account_id WHERE u.login IN ('dora', 'eddie') ORDER BY 1")
    assert entries == [("dora", "opening_balance", -12050), ("eddie", "opening_balance", 7500)]

    status, body = await _import(book, GOOD, False)  # the same file again: nothing changes
    assert status == 201 and body["message"] == "Nothing new: every customer was already imported."
    assert [r["status"] for r in body["rows"]] == ["already imported", "already imported"]
    assert await book.sql("SELECT count(*) FROM ledger_entries e JOIN users u ON u.id = e.account_id "
                          "WHERE u.login IN ('dora', 'eddie')") == [(2,)]
    pool = await create_pool(book.dsn, 1, 2)
    try:
        assert (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()


async def test_new_players_with_an_email_are_mailed_a_password_link(
        aiohttp_client: Any, base_env: dict[str, str], keys_dir: Path, database_url: str,
        smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute(BOOK)
    app = create_app(load(RestSettings, {**base_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                                         "RESTAPI_PUBLIC_URL": "https://book.example"}, port=0))
    client = await aiohttp_client(app)
    token = KeyRing.load(keys_dir).sign(access_claims(2, "agent", None, ttl=600))
    # A forged Host never reaches a link: mail and shown links use the configured public origin.
    resp = await client.post(IMPORT, json={"csv": GOOD, "dry_run": False},
                             headers={"Authorization": f"Bearer {token}", "Host": "evil.example"})
    body = await resp.json()
    assert resp.status == 201, body
    rows = {r["login"]: r for r in body["rows"]}
    assert rows["dora"]["password"] == "A link to choose a password was mailed to dora@x.test"
    assert "setup_link" not in rows["dora"]
    assert rows["eddie"]["setup_link"].startswith("https://book.example/reset-password?token=")
    await wait_for(lambda: len(inbox.messages) == 1, 5, "the invite mail")
    mail = inbox.messages[0]
    assert mail["To"] == "dora@x.test"
    text = mail.get_payload(decode=True).decode()
    assert "Your login is dora" in text and "https://book.example/reset-password?token=" in text
    assert "evil.example" not in text
