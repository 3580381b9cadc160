"""The product packages stay ``mypy --strict`` clean (STYLE.md)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.helpers import scaled


def test_mypy_strict_is_clean() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=ROOT, timeout=scaled(600))
    assert out.returncode == 0, out.stdout[-4000:]
