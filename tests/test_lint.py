"""The code stays ruff-clean (E, F, W, I, UP), as STYLE.md asks."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.helpers import scaled


def test_ruff_is_clean() -> None:
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "."], capture_output=True, text=True, cwd=ROOT,
                         timeout=scaled(120))
    assert out.returncode == 0, out.stdout[-4000:]
