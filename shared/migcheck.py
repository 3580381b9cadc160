"""Refuse migrations that would break the previous release's code (expand/contract).

A deploy runs the new schema under the old code for a while (rolling restarts, a rollback), so a
migration may only *expand*: add tables, columns, types, functions, loosen constraints. Dropping or
renaming a table, column, type, view or function, or changing a column's type, is a *contract* step,
allowed only when the file says which earlier expand it completes::

    -- expand: users.nickname replaces users.display_name (display_name is contracted later)   (in 0030)
    -- contract-of: 0030                                                                          (in 0034)
    ALTER TABLE users DROP COLUMN display_name;

The earlier migration must exist, have a lower number, carry an ``-- expand:`` line, and that line
must name each object the contract drops or renames. Statements inside function bodies and strings
do not count (a function that drops old partitions is not a schema change of this migration).

    python -m shared.migcheck [sql_dir]     exit 1 and list the offending statements
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_DOLLAR = re.compile(r"\$([A-Za-z_]*)\$.*?\$\1\$", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_IDENT = r'("?[A-Za-z_][\w$]*"?(?:\."?[A-Za-z_][\w$]*"?)?)'
# (what, regex whose last group is the object named)
BREAKING: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("drops", re.compile(r"\bDROP\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW|TYPE|DOMAIN|FUNCTION|PROCEDURE|SCHEMA|SEQUENCE)"
                         r"\s+(?:IF\s+EXISTS\s+)?" + _IDENT, re.I)),
    ("drops a column", re.compile(r"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?" + _IDENT + r"[^;]*?\bDROP\s+"
                                  r"(?!CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b|IDENTITY\b|EXPRESSION\b)"
                                  r"(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?" + _IDENT, re.I)),
    ("renames", re.compile(r"\bALTER\s+(?:TABLE|TYPE|VIEW|MATERIALIZED\s+VIEW|FUNCTION|SCHEMA|SEQUENCE)\s+"
                           r"(?:IF\s+EXISTS\s+)?" + _IDENT + r"[^;]*?\bRENAME\b(?!\s+CONSTRAINT\b)", re.I)),
    ("changes a column's type", re.compile(r"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?" + _IDENT +
                                           r"[^;]*?\bALTER\s+(?:COLUMN\s+)?" + _IDENT + r"\s+(?:SET\s+DATA\s+)?TYPE\b",
                                           re.I)),
)
_EXPAND = re.compile(r"^--\s*expand:(.*)$", re.M)
_CONTRACT = re.compile(r"^--\s*contract-of:\s*(\d{4})\b", re.M)


@dataclass(frozen=True, slots=True)
class Problem:
    """One statement a migration may not run, and why."""

    file: str
    statement: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}: {self.statement}"


def schema_text(sql: str) -> str:
    """``sql`` without comments, strings and dollar-quoted bodies (what PostgreSQL runs at top level)."""
    text = _BLOCK_COMMENT.sub(" ", sql)
    text = _LINE_COMMENT.sub(" ", text)
    text = _DOLLAR.sub(" ", text)
    return _STRING.sub("''", text)


def breaking(sql: str) -> list[tuple[str, str, list[str]]]:
    """(what, statement, objects named) for every contract statement of a migration."""
    found = []
    for statement in schema_text(sql).split(";"):
        flat = " ".join(statement.split())
        for what, pattern in BREAKING:
            m = pattern.search(flat)
            if m:
                objects = [g.replace('"', "").lower() for g in m.groups() if g]
                found.append((what, flat, objects))
                break
    return found


def check(files: dict[str, str]) -> list[Problem]:
    """Problems of every migration in ``files`` (file name -> SQL)."""
    numbers = {int(m.group(1)): name for name in files if (m := _NAME.match(name))}
    problems: list[Problem] = []
    for name, sql in sorted(files.items()):
        found = breaking(sql)
        if not found:
            continue
        m = _CONTRACT.search(sql)
        if m is None:
            problems += [Problem(name, stmt, f"{what} without '-- contract-of: NNNN' naming its expand step")
                         for what, stmt, _objs in found]
            continue
        number = int(m.group(1))
        this = _NAME.match(name)
        expand_file = numbers.get(number)
        if this is None or expand_file is None or number >= int(this.group(1)):
            problems.append(Problem(name, m.group(0),
                                    f"contract-of {m.group(1)}: no earlier migration has that number"))
            continue
        promised = " ".join(_EXPAND.findall(files[expand_file])).lower()
        if not promised:
            problems.append(Problem(name, m.group(0), f"{expand_file} has no '-- expand:' line to complete"))
            continue
        for what, stmt, objs in found:
            missing = [o for o in objs if o.rpartition(".")[2] not in promised]
            if missing:
                problems.append(Problem(name, stmt, f"{what} {', '.join(missing)}, which the expand in "
                                                    f"{expand_file} does not name"))
    return problems


def check_dir(path: Path) -> list[Problem]:
    """Problems of the migrations in a folder."""
    return check({p.name: p.read_text() for p in sorted(path.glob("*.sql"))})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "sql"
    problems = check_dir(folder)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
