"""Money as people read it: integer cents to "$1,234.56" (messages never speak cents)."""

from __future__ import annotations


def dollars(cents: int) -> str:
    """``123456`` -> ``"$1,234.56"``; ``-500`` -> ``"-$5.00"`` (exact: integer arithmetic only)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{frac:02d}"
