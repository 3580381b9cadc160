"""Bringing a book over from another platform: a CSV of customers, checked then imported at once.

``check_rows`` (pure) reads the CSV and lists every row's problems in plain words. ``run`` checks
again against the database (logins and emails already taken) and, unless it is a dry run, opens
every new account in one transaction with its opening balance as an ``opening_balance`` ledger
entry. A row whose login is already in the agent's book is reported as already imported and left
alone, so sending the same file twice changes nothing. Each new player gets a single-use link to
choose a password: mailed when the player has an email and mail is set up, otherwise shown to the
agent to pass on.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import aiopg

from restapi import ledger
from restapi.agent import queries as q
from restapi.agent.common import usd
from restapi.auth import queries as auth_q
from restapi.auth import service as auth_service
from restapi.auth.reset import reset_link
from shared.errors import Forbidden, NotFound

MAX_ROWS = 5000
MAX_CENTS = 10**12
COLUMNS = {"login": "Login", "name": "Name", "email": "Email", "phone": "Phone", "credit_limit": "Credit limit",
           "max_wager": "Largest bet", "min_wager": "Smallest bet", "opening_balance": "Opening balance"}
LOGIN_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{5,30}$")
INVITE_TTL = 7 * 24 * 3600  # a week to choose a password
TAKEN = """
SELECT lower(login), lower(email), agent_id, id FROM users
 WHERE lower(login) = ANY(%(logins)s) OR lower(email) = ANY(%(emails)s)
"""


@dataclass
class Row:
    """One customer row of the file (line numbers count the header as line 1)."""

    line: int
    login: str
    name: str = ""
    email: str | None = None
    phone: str | None = None
    credit_limit_cents: int = 0
    max_wager_cents: int | None = None
    min_wager_cents: int | None = None
    opening_balance_cents: int = 0
    problems: list[str] = field(default_factory=list)


def dollars_to_cents(text: str, what: str, problems: list[str], *, negative: bool = False,
                     positive: bool = False) -> int | None:
    """ "1,250.50" or "$-20" -> cents; a plain-words problem (and None) when it is not an amount."""
    raw = text.strip().replace("$", "").replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        problems.append(f"{what} \"{text.strip()}\" is not an amount in dollars (for example 250 or 99.50)")
        return None
    if value != value.quantize(Decimal("0.01")) or not value.is_finite():
        problems.append(f"{what} \"{text.strip()}\" has more than two decimals")
        return None
    cents = int(value * 100)
    if cents < 0 and not negative:
        problems.append(f"{what} cannot be negative")
    elif cents == 0 and positive:
        problems.append(f"{what} must be more than $0.00")
    elif abs(cents) > MAX_CENTS:
        problems.append(f"{what} is more than {usd(MAX_CENTS)}")
    else:
        return cents
    return None


def check_rows(text: str) -> tuple[list[Row], list[str]]:
    """The file's rows with their problems, and problems of the file as a whole (pure: no I/O)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower().replace(" ", "_") for h in next(reader, [])]
    if "login" not in header:
        return [], ["The first line must name the columns, with at least \"login\" "
                    f"(the columns are: {', '.join(COLUMNS)})"]
    unknown = [h for h in header if h and h not in COLUMNS]
    file_problems = [f"Unknown column \"{h}\" (the columns are: {', '.join(COLUMNS)})" for h in unknown]
    rows: list[Row] = []
    seen: dict[str, int] = {}
    emails: dict[str, int] = {}
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            file_problems.append(f"The file has more than {MAX_ROWS} customers; split it")
            break
        cells = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}
        row = Row(number, cells.get("login", "").lower(), cells.get("name", "")[:100])
        p = row.problems
        if not LOGIN_RE.match(row.login):
            p.append("Login must be 3 to 40 letters, digits, dots, dashes or underscores")
        elif row.login in seen:
            p.append(f"Login {row.login} is also on line {seen[row.login]}")
        seen.setdefault(row.login, number)
        row.email = cells.get("email", "").lower() or None
        row.phone = cells.get("phone") or None
        if row.email and not EMAIL_RE.match(row.email):
            p.append(f"Email \"{row.email}\" is not an email address")
        elif row.email and row.email in emails:
            p.append(f"Email {row.email} is also on line {emails[row.email]}")
        if row.email:
            emails.setdefault(row.email, number)
        if row.phone and not PHONE_RE.match(row.phone):
            p.append(f"Phone \"{row.phone}\" should be 5 to 30 digits, spaces, brackets or dashes")
        if not row.email and not row.phone:
            p.append("Give an email or a phone number so the player can be reached")
        row.credit_limit_cents = dollars_to_cents(cells.get("credit_limit", ""), "Credit limit", p) or 0
        row.max_wager_cents = dollars_to_cents(cells.get("max_wager", ""), "Largest bet", p, positive=True)
        row.min_wager_cents = dollars_to_cents(cells.get("min_wager", ""), "Smallest bet", p, positive=True)
        if row.min_wager_cents and row.max_wager_cents and row.min_wager_cents > row.max_wager_cents:
            p.append("Smallest bet is more than the largest bet")
        row.opening_balance_cents = dollars_to_cents(cells.get("opening_balance", ""), "Opening balance", p,
                                                     negative=True) or 0
        rows.append(row)
    if not rows and not file_problems:
        file_problems.append("The file has no customers under its header line")
    return rows, file_problems


@dataclass(frozen=True, slots=True)
class Invite:
    """How a new player will set a password: a mailed link, or a link for the agent to pass on."""

    login: str
    email: str | None
    link: str


async def run(pool: aiopg.Pool, viewer: int, text: str, *, agent_id: int | None, dry_run: bool,
              base_url: str, now: datetime) -> tuple[dict[str, Any], list[Invite]]:
    """Check the file against the book and, unless ``dry_run`` or any row has a problem, import it in one
    transaction. Returns the per-row report and the invitations to send (after the commit)."""
    rows, file_problems = check_rows(text)
    owner = agent_id or viewer
    invites: list[Invite] = []
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        await cur.execute(q.AGENT_IN_SCOPE, {"viewer": viewer, "agent_id": owner})
        scope = await cur.fetchone()
        if scope is None:
            raise NotFound("No such agent in your book", code="agent_not_found", details={"agent_id": owner})
        if not scope[0]:
            raise Forbidden("You may only read this sub-agent's book", code="read_only")
        await cur.execute("SELECT pg_advisory_xact_lock(1735, %(a)s::int)", {"a": owner})  # one import per book
        await cur.execute(TAKEN, {"logins": [r.login for r in rows] or [""],
                                  "emails": [r.email for r in rows if r.email] or [""]})
        taken = await cur.fetchall()
        logins = {login: (agent, uid) for login, _e, agent, uid in taken}
        email_owner = {email: login for login, email, _a, _i in taken if email}
        statuses: dict[int, str] = {}
        for row in rows:
            if row.login in logins:
                if logins[row.login][0] == owner:
                    statuses[row.line] = "already imported"
                    continue
                row.problems.append(f"Login {row.login} belongs to someone outside this book; pick another")
            if row.email and email_owner.get(row.email, row.login) != row.login:
                row.problems.append(f"Email {row.email} is already used by another account")
        bad = bool(file_problems) or any(r.problems for r in rows)
        for row in rows:
            statuses.setdefault(row.line, "problem" if row.problems else ("would be imported" if dry_run or bad
                                                                          else "imported"))
        if not dry_run and not bad:
            for row in rows:
                if statuses[row.line] != "imported":
                    continue
                invites.append(await _open_account(cur, viewer, owner, row, base_url, now))
    created = sum(1 for s in statuses.values() if s == "imported")
    report = {
        "dry_run": dry_run, "ok": not bad, "agent_id": owner, "file_problems": file_problems,
        "counts": {"rows": len(rows), "problems": sum(1 for r in rows if r.problems), "imported": created,
                   "already_imported": sum(1 for s in statuses.values() if s == "already imported")},
        "rows": [{"line": r.line, "login": r.login, "status": statuses[r.line], "problems": r.problems,
                  "opening_balance": usd(r.opening_balance_cents), "credit_limit": usd(r.credit_limit_cents)}
                 for r in rows],
        "message": _summary(dry_run, bad, len(rows), created, file_problems, rows),
    }
    return report, invites


def _summary(dry_run: bool, bad: bool, total: int, created: int, file_problems: list[str], rows: list[Row]) -> str:
    if file_problems:
        return "The file cannot be imported: " + "; ".join(file_problems)
    if bad:
        n = sum(1 for r in rows if r.problems)
        return f"{n} of {total} rows have problems; fix them and try again. Nothing was imported."
    if dry_run:
        return f"{_customers(total)} checked: every row looks right. Import when ready."
    return f"Imported {_customers(created)}." if created else "Nothing new: every customer was already imported."


def _customers(n: int) -> str:
    return f"{n} customer" if n == 1 else f"{n} customers"


async def _open_account(cur: Any, viewer: int, owner: int, row: Row, base_url: str, now: datetime) -> Invite:
    await cur.execute(q.INSERT_CUSTOMER, {
        "login": row.login, "email": row.email, "password_hash": None, "display_name": row.name, "phone": row.phone,
        "agent_id": owner, "credit_limit_cents": row.credit_limit_cents, "max_wager_cents": row.max_wager_cents,
        "min_wager_cents": row.min_wager_cents, "notes": "imported"})
    (player_id,) = await cur.fetchone()
    if row.opening_balance_cents:
        await ledger.post(cur, account_id=player_id, amount_cents=row.opening_balance_cents, kind="opening_balance",
                          ref_type="import", ref_id=f"import:{row.login}", actor_id=viewer,
                          memo="opening balance brought over", override=True, at=now)
    token = auth_service.new_secret()
    await cur.execute(auth_q.INSERT_RESET, {"token_hash": auth_service.token_hash(token), "user_id": player_id,
                                            "ttl": INVITE_TTL})
    return Invite(row.login, row.email, reset_link(base_url, token))


def invite_body(login: str, link: str) -> str:
    """The plain-text mail a new imported player receives."""
    return (f"Your agent has moved your account to WagerBabe. Your login is {login}.\n\n"
            f"Choose your password within 7 days with this link (it works once):\n\n{link}\n")
