"""The README's configuration table lists exactly the variables the settings classes read."""

from __future__ import annotations

from shared.config import _all_settings, describe
from tests.conftest import ROOT


def test_readme_settings_table_is_current() -> None:
    text = (ROOT / "README.md").read_text()
    start = text.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    table = text[start:text.index("<!-- settings-table:end -->")].strip()
    assert table == describe(*_all_settings()), "README table is stale: paste `python -m shared.config`"
