"""docs/configuration.md's settings table lists exactly the variables the settings classes read."""

from __future__ import annotations

from devtools.settings_table import table
from tests.conftest import ROOT


def test_configuration_settings_table_is_current() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    start = text.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    current = text[start:text.index("<!-- settings-table:end -->")].strip()
    assert current == table(), "docs/configuration.md table is stale: paste `python -m devtools.settings_table`"
