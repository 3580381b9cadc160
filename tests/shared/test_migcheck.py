"""Expand/contract: a migration that drops or renames a table, column, type or function is refused
unless it completes an earlier expand that names what it removes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.migcheck import check, check_dir
from tests.conftest import ROOT

EXPAND = ("-- expand: users.nickname replaces users.display_name; legacy_codes goes away\n"
          "ALTER TABLE users ADD nickname text;\n")


def test_every_migration_in_sql_is_expand_only_or_a_marked_contract() -> None:
    assert check_dir(ROOT / "sql") == []
    out = subprocess.run([sys.executable, "-m", "shared.migcheck"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("sql", [
    "ALTER TABLE users DROP COLUMN display_name;",
    "alter table users drop display_name;",
    "ALTER TABLE IF EXISTS ONLY users ADD x int, DROP COLUMN IF EXISTS display_name;",
    "DROP TABLE legacy_codes;",
    "DROP TABLE IF EXISTS legacy_codes CASCADE;",
    "DROP TYPE bet_kind;",
    "DROP FUNCTION bet_offers(text[], text[], text[]);",
    "DROP VIEW sidebar;",
    "ALTER TABLE users RENAME COLUMN display_name TO nickname;",
    "ALTER TABLE users RENAME TO accounts;",
    "ALTER TYPE bet_kind RENAME VALUE 'a' TO 'b';",
    "ALTER TABLE users ALTER COLUMN balance_cents TYPE numeric;",
    'ALTER TABLE "users" ALTER "display_name" SET DATA TYPE varchar(10);',
])
def test_a_drop_rename_or_type_change_without_a_contract_marker_is_refused(sql: str) -> None:
    [problem] = check({"0030_x.sql": EXPAND, "0031_y.sql": sql})
    assert problem.file == "0031_y.sql" and "contract-of" in problem.reason


@pytest.mark.parametrize("sql", [
    "ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;",
    "ALTER TABLE users ALTER COLUMN phone DROP NOT NULL, ALTER COLUMN phone DROP DEFAULT;",
    "ALTER TABLE users RENAME CONSTRAINT a TO b;",
    "DROP INDEX users_agent_idx;",
    "CREATE FUNCTION prune() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE old_part'; "
    "DROP TABLE other_part; END $$;",
    "-- DROP TABLE users; is what we will never do\nCOMMENT ON TABLE users IS 'DROP TABLE users';",
])
def test_expand_steps_comments_strings_and_function_bodies_pass(sql: str) -> None:
    assert check({"0031_y.sql": sql}) == []


def test_a_contract_of_an_earlier_expand_that_names_the_objects_passes() -> None:
    contract = "-- contract-of: 0030\nALTER TABLE users DROP COLUMN display_name;\nDROP TABLE legacy_codes;\n"
    assert check({"0030_x.sql": EXPAND, "0034_y.sql": contract}) == []


@pytest.mark.parametrize(("files", "reason"), [
    ({"0034_y.sql": "-- contract-of: 0030\nDROP TABLE legacy_codes;"}, "no earlier migration"),
    ({"0030_x.sql": EXPAND, "0029_y.sql": "-- contract-of: 0030\nDROP TABLE legacy_codes;"}, "no earlier migration"),
    ({"0030_x.sql": "ALTER TABLE users ADD nickname text;",
      "0034_y.sql": "-- contract-of: 0030\nDROP TABLE legacy_codes;"}, "no '-- expand:' line"),
    ({"0030_x.sql": EXPAND, "0034_y.sql": "-- contract-of: 0030\nDROP TABLE bets;"}, "does not name"),
])
def test_a_contract_must_point_at_an_earlier_expand_that_names_what_it_removes(files: dict[str, str],
                                                                                reason: str) -> None:
    problems = check(files)
    assert len(problems) == 1 and reason in problems[0].reason, problems
