"""Metric names used by PromQL expressions (a small tokenizer: enough for our rules and dashboards).

Grouping label lists (``by (...)``, ``on (...)``, ...), strings, label matchers, ranges, numbers,
function names and keywords are removed; what is left are metric names.
"""

from __future__ import annotations

import re

_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?")
KEYWORDS = {"and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring", "group_left",
            "group_right", "inf", "nan", "Inf", "NaN"}
# Grafana template variables ($__rate_interval, $instance) are not metrics.
_VARIABLES = re.compile(r"\$\{?\w+\}?")
_DURATION = re.compile(r"\b\d+(?:ms|s|m|h|d|w|y)\b")


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` reads."""
    text = _STRINGS.sub(" ", expr)
    text = _VARIABLES.sub(" ", text)
    text = _LISTS.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _DURATION.sub(" ", text)
    names = set()
    for m in _IDENT.finditer(text):
        name, call = m.group(1), m.group(2)
        if call or name in KEYWORDS:
            continue
        names.add(name)
    return names


def exported_names(exposition: str) -> set[str]:
    """Every metric family and sample name in a Prometheus text exposition (a family with no samples yet,
    e.g. a labelled metric nobody has touched, still has its ``# TYPE`` line)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            family, kind = line.split()[2:4]
            names.add(family)
            if kind == "histogram":
                names |= {family + s for s in ("_bucket", "_sum", "_count")}
            elif kind == "counter" and not family.endswith("_total"):
                names.add(family + "_total")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names
