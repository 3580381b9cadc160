"""Typed settings read from the environment.

Each service declares one frozen dataclass whose fields carry their variable name, default and
limits (``setting(...)``); ``load(cls, environ)`` casts every value and fails at start-up with the
variable's name when one is missing or malformed (the approach of Starlette's ``Config``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from shared.errors import AppError

T = TypeVar("T")

_NO_DEFAULT = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(AppError, ValueError):
    """A settings variable is missing or malformed; the message names it."""

    code, default_message = "config_error", "Invalid configuration"


def setting(
    env: str,
    default: Any = _NO_DEFAULT,
    *,
    help: str,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """Declare a dataclass field read from the variable ``env``."""
    meta = {"env": env, "help": help, "min": min, "max": max, "choices": choices}
    if default is _NO_DEFAULT:
        return field(metadata=meta)
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple for sequence defaults")
    return field(default=default, metadata=meta)


def _cast(name: str, raw: str, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if raw == "":
            return None
        return _cast(name, raw, args[0])
    if origin is tuple:
        (inner, *_rest) = typing.get_args(tp)
        return tuple(_cast(name, part.strip(), inner) for part in raw.split(",") if part.strip())
    if tp is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f"{name}: expected a boolean (true/false), got {raw!r}")
    if tp is int:
        try:
            return int(raw.strip().replace("_", ""))
        except ValueError:
            raise ConfigError(f"{name}: expected an integer, got {raw!r}") from None
    if tp is float:
        try:
            return float(raw.strip())
        except ValueError:
            raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if tp is Path:
        return Path(raw).expanduser()
    if tp is str:
        return raw
    raise TypeError(f"unsupported settings type {tp!r} for {name}")


def load(cls: type[T], environ: Mapping[str, str] | None = None, **overrides: Any) -> T:
    """Build ``cls`` from ``environ`` (default ``os.environ``); ``overrides`` win over both."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in overrides:
            values[f.name] = overrides[f.name]
            continue
        meta = f.metadata
        name = meta.get("env")
        if name is None:
            continue
        raw = environ.get(name)
        if raw is None:
            if f.default is dataclasses.MISSING:
                raise ConfigError(f"{name}: required but not set ({meta['help']})")
            continue
        value = _cast(name, raw, hints[f.name])
        _check_limits(name, value, meta)
        values[f.name] = value
    return cls(**values)


def _check_limits(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{name}: must be one of {', '.join(meta['choices'])}, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if meta.get("min") is not None and value < meta["min"]:
            raise ConfigError(f"{name}: must be >= {meta['min']}, got {value!r}")
        if meta.get("max") is not None and value > meta["max"]:
            raise ConfigError(f"{name}: must be <= {meta['max']}, got {value!r}")


@dataclass(frozen=True, slots=True)
class CommonSettings:
    """Settings every service reads; service settings subclass this."""

    database_url: str = setting(
        "DATABASE_URL", "", help="PostgreSQL URL. Empty: `./dev up` starts an embedded server"
    )
    database_direct_url: str = setting(
        "DATABASE_DIRECT_URL", "", help="PostgreSQL URL that bypasses PgBouncer, for migrations (a session "
        "advisory lock) and backups; empty: DATABASE_URL",
    )
    database_replica_url: str = setting(
        "DATABASE_REPLICA_URL", "", help="Streaming replica for reports, dashboards, history and catalog reads; "
        "empty: all reads go to DATABASE_URL",
    )
    redis_url: str = setting("REDIS_URL", "", help="Redis URL. Empty: `./dev up` starts an embedded server")
    log_level: str = setting(
        "LOG_LEVEL", "INFO", help="Log level", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    pg_pool_min: int = setting("PG_POOL_MIN", 1, help="Minimum PostgreSQL pool size", min=0, max=100)
    pg_pool_max: int = setting("PG_POOL_MAX", 10, help="Maximum PostgreSQL pool size", min=1, max=500)
    ready_timeout: float = setting(
        "READY_TIMEOUT", 2.0, help="Seconds /readyz waits for each dependency", min=0.05, max=30
    )
    shutdown_timeout: float = setting(
        "SHUTDOWN_TIMEOUT", 8.0, help="Seconds a service waits for work to finish on SIGTERM", min=0, max=60
    )
    keys_dir: Path = setting(
        "AUTH_KEYS_DIR", Path(".data/keys"), help="Folder of RS256 private keys `<kid>.pem` (JWT signing)"
    )


def describe(*classes: type[Any]) -> str:
    """Markdown table of every variable of ``classes`` (``python -m devtools.settings_table`` prints it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    seen: set[str] = set()
    for cls in classes:
        for f in dataclasses.fields(cls):
            name = f.metadata.get("env")
            if not name or name in seen:
                continue
            seen.add(name)
            default = "(required)" if f.default is dataclasses.MISSING else f.default
            if isinstance(default, tuple):
                default = ",".join(map(str, default))
            rows.append(f"| `{name}` | `{default}` | {f.metadata['help']} |")
    return "\n".join(rows)


def require_urls(settings: CommonSettings) -> None:
    """Fail at start-up when a service is launched without its servers."""
    for name, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url)):
        if not value:
            raise ConfigError(f"{name}: required to run a service (use `./dev up` for embedded servers)")


def exit_on_config_error(exc: ConfigError) -> typing.NoReturn:
    """Print the config error without a traceback and exit with status 2."""
    print(f"configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2)

