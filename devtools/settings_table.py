"""Print the Markdown table of every service's settings: ``python -m devtools.settings_table``.

It lives outside ``shared/`` because it imports the three services' settings, and ``shared/`` knows
no service. docs/configuration.md holds its output, and tests/shared/test_readme.py keeps it current.
"""

from __future__ import annotations

from typing import Any

from ingest.config import IngestSettings
from pushd.config import PushSettings
from restapi.config import RestSettings
from shared.backup.settings import BackupSettings
from shared.config import describe

SETTINGS: tuple[type[Any], ...] = (RestSettings, PushSettings, IngestSettings, BackupSettings)


def table() -> str:
    """The table, as the docs hold it."""
    return describe(*SETTINGS)


if __name__ == "__main__":
    print(table())
