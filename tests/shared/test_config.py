"""Settings: typed casts, limits, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushd.config import PushSettings
from restapi.config import RestSettings
from shared.config import ConfigError, describe, load


def test_defaults_load_from_an_empty_environment() -> None:
    s = load(RestSettings, {})
    assert s.port == 8080 and s.host == "127.0.0.1" and s.keys_dir == Path(".data/keys")


def test_values_are_cast_to_their_types() -> None:
    s = load(RestSettings, {"RESTAPI_PORT": "9000", "READY_TIMEOUT": "0.5", "LOG_LEVEL": "DEBUG"})
    assert (s.port, s.ready_timeout, s.log_level) == (9000, 0.5, "DEBUG")


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("RESTAPI_PORT", "eighty", "expected an integer"),
        ("RESTAPI_PORT", "70000", "must be <= 65535"),
        ("READY_TIMEOUT", "soon", "expected a number"),
        ("LOG_LEVEL", "LOUD", "must be one of"),
        ("PG_POOL_MAX", "0", "must be >= 1"),
    ],
)
def test_malformed_variable_fails_naming_it(var: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(RestSettings, {var: value})
    assert str(err.value).startswith(f"{var}:") and fragment in str(err.value)


def test_settings_are_frozen() -> None:
    s = load(PushSettings, {})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_overrides_win_over_environment() -> None:
    assert load(RestSettings, {"RESTAPI_PORT": "9000"}, port=0).port == 0


def test_describe_lists_every_variable_once() -> None:
    table = describe(RestSettings, PushSettings)
    assert table.count("`DATABASE_URL`") == 1 and "`PUSHD_PORT`" in table and "`RESTAPI_PORT`" in table
