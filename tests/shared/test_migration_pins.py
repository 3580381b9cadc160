"""Migrations are immutable once on main: every file's checksum is pinned here, new ones take the next number.

Adding a migration? Add ONE line to ``PINNED`` below, in number order: ``"NNNN_name.sql": "<sha256>"``
(the failing test prints the exact line). Several branches add migrations at once (numbers handed out
in advance), so the only rule on numbers is that a new file goes above every number already pinned:
the holes in the early history (0006-0011, 0013) stay holes forever.
"""

from __future__ import annotations

from pathlib import Path

from shared import migrate

# The checksum (sha256 of the file's text, as shared.migrate records it) of every migration on main.
PINNED: dict[str, str] = {
    "0001_users.sql": "985700b17834be93687df363abf261ccf152c53cc6fc0de556a957e849141cdd",
    "0002_auth.sql": "85005a387fff71b134de4d123722447e2e62fb7d6956ac3654933b769f981ad3",
    "0003_catalog.sql": "7edf598f13d71476974f5e3c3107abd7a7284473bf0e8c8e0cdb87d61c912029",
    "0004_ledger.sql": "43bd7c145a77dfacef629846622a092a556a543150ef1558c388e8d00756828d",
    "0005_betting.sql": "bbceefbc864959ac754fd4f3e21f61c11e3314d49b567ffe6fc486c2d505f23a",
    "0012_auth_access_tokens.sql": "ae063e00bd09f5c437d370ca6f76653ed44c933b50fc1b73d056f3844c339399",
    "0014_ledger_daily.sql": "7c2fc2f498ad2b14b29ef6a54378619e9e6ab88fa1b72693db34ed097a25cb99",
    "0015_placement_functions.sql": "db0dd991aa71174caec100281419374402f6c5b4e9a31f6247ecc71a895089a3",
    # New migrations: one line each, below this comment, in number order.
    "0016_revoked_access_tokens.sql": "3c357aef98d0d0f6c88636adac4da8e660739139e1074b76771d243aef7e858b",
    "0017_login_throttle.sql": "2ab8179f0b24f87222cfa83dc91b4f8afc72707eae532e2dcf5d9acda0525935",
    "0019_event_awaiting_result.sql": "e9255ede0ac6f6504f58cc625be71bb7f840cc2398c94de54773c34346f3ecdb",
    "0021_kill_switches.sql": "d3ca4d10a66f66e7d818822ffe68a08a7c2300cf816b300d1f5471e4356c9314",
}


def _filename(m: migrate.Migration) -> str:
    return f"{m.version:04d}_{m.name}.sql"


def pin_problems(migrations: list[migrate.Migration], pinned: dict[str, str]) -> list[str]:
    """What breaks the rules: an edited, renamed or deleted pinned file, or a new file that is not pinned
    or does not take a number above every pinned one."""
    problems: list[str] = []
    files = {_filename(m): m for m in migrations}
    top = max((int(name[:4]) for name in pinned), default=0)
    for name, checksum in pinned.items():
        if name not in files:
            problems.append(f"{name} is pinned but gone (renamed or deleted): migrations are immutable")
        elif files[name].checksum != checksum:
            problems.append(f"{name} was edited after it landed: write a new migration instead")
    for name, m in files.items():
        if name in pinned:
            continue
        if m.version <= top:
            problems.append(f"{name}: a new migration takes the next free number, above {top:04d}")
        else:
            problems.append(f'{name} is not pinned: add `"{name}": "{m.checksum}",` to PINNED')
    return problems


def test_every_migration_is_pinned_and_unchanged() -> None:
    assert pin_problems(migrate.discover(), PINNED) == []


def test_pins_are_listed_in_number_order() -> None:
    """One line per migration, in order, so two branches adding migrations merge as two adjacent lines."""
    assert list(PINNED) == sorted(PINNED)


def test_an_edited_or_deleted_migration_is_reported(tmp_path: Path) -> None:
    (tmp_path / "0001_users.sql").write_text("CREATE TABLE users (id int);\n")
    pinned = {"0001_users.sql": migrate.discover(tmp_path)[0].checksum, "0002_auth.sql": "0" * 64}
    (tmp_path / "0001_users.sql").write_text("CREATE TABLE users (id bigint);\n")
    problems = pin_problems(migrate.discover(tmp_path), pinned)
    assert problems == ["0001_users.sql was edited after it landed: write a new migration instead",
                        "0002_auth.sql is pinned but gone (renamed or deleted): migrations are immutable"]


def test_a_new_migration_must_take_a_number_above_every_pinned_one(tmp_path: Path) -> None:
    for name in ("0001_a.sql", "0005_b.sql", "0003_backfill.sql", "0006_next.sql"):
        (tmp_path / name).write_text(f"-- {name}\n")
    found = {_filename(m): m.checksum for m in migrate.discover(tmp_path)}
    pinned = {"0001_a.sql": found["0001_a.sql"], "0005_b.sql": found["0005_b.sql"]}
    problems = pin_problems(migrate.discover(tmp_path), pinned)
    assert problems == ["0003_backfill.sql: a new migration takes the next free number, above 0005",
                        f'0006_next.sql is not pinned: add `"0006_next.sql": "{found["0006_next.sql"]}",` to PINNED']
