"""Imports flow one way: services -> shared, never shared -> a service, a service -> another, or a service
-> devtools (the development servers, runner and generators, which may import anything)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

SERVICES = ("restapi", "pushd", "ingest")
# What each top-level package may never import (every import counts, also one inside a function).
FORBIDDEN: dict[str, set[str]] = {
    "shared": {*SERVICES, "devtools", "tests", "bench"},
    **{svc: {*(set(SERVICES) - {svc}), "devtools", "tests", "bench"} for svc in SERVICES},
}


def imported_packages(source: str, package: str) -> set[tuple[int, str]]:
    """``(line, top-level package)`` of every absolute or relative import in ``source``."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name.partition(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays in its own package unless it climbs out
                found.add((node.lineno, package))
            elif node.module:
                found.add((node.lineno, node.module.partition(".")[0]))
    return found


def violations(root: Path) -> list[str]:
    """``path:line imports X`` for every import that goes the wrong way."""
    out: list[str] = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, target in sorted(imported_packages(path.read_text(), package)):
                if target in forbidden:
                    out.append(f"{path.relative_to(root)}:{line} imports {target}")
    return out


def test_shared_imports_no_service_and_services_import_no_other_service() -> None:
    assert violations(ROOT) == []


def test_a_wrong_way_import_is_found_even_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "config.py").write_text("import os\n\ndef f():\n    from restapi.config import X\n")
    (tmp_path / "pushd").mkdir()
    (tmp_path / "pushd" / "app.py").write_text("from shared import db\nimport ingest.store\nfrom . import hub\n")
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "x.py").write_text("from devtools import devservers\n")
    assert violations(tmp_path) == ["shared/config.py:4 imports restapi", "pushd/app.py:2 imports ingest",
                                    "ingest/x.py:1 imports devtools"]
