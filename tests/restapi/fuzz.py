"""Schemathesis runs against the real restapi process: every operation of a part of the spec gets
valid and schema-breaking requests; every answer must be below 500, have a status the spec lists for
the operation (issue 13: no undocumented codes) and match the schema declared for that status."""

from __future__ import annotations

import os
from collections.abc import Callable

import orjson
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.conftest import ROOT, TIMEOUT_FACTOR

ARTIFACTS = ROOT / "artifacts"

# A handful per operation keeps the suite quick; FUZZ_EXAMPLES=100 ./dev test … hunts harder.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
ROLES = ("player", "agent", "admin")


def operations(base_url: str, path_regex: str) -> list[schemathesis.APIOperation]:
    """The operations of the served OpenAPI spec whose path matches ``path_regex``."""
    schema = schemathesis.openapi.from_url(f"{base_url}/docs/openapi.json").include(path_regex=path_regex)
    return [result.ok() for result in schema.get_all_operations()]


def _record(statuses: dict[str, set[int]]) -> None:
    """Append this run's statuses to artifacts/fuzz-statuses.jsonl (the counts quoted in issue notes)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "fuzz-statuses.jsonl").open("ab") as f:
        f.write(orjson.dumps({k: sorted(v) for k, v in sorted(statuses.items())}) + b"\n")


def documented(op: schemathesis.APIOperation) -> set[int]:
    """The statuses the spec lists for ``op``."""
    return {int(code) for code in op.responses.status_codes if str(code).isdigit()}


def fuzz(base_url: str, ops: list[schemathesis.APIOperation],
         token_for: Callable[[schemathesis.Case], str]) -> dict[str, set[int]]:
    """Call each operation with generated cases (``token_for`` gives each its bearer token, fresh per
    request); raises on a 5xx or a schema violation, and at the end on every status the spec does not
    list for its operation (all of them at once). Returns the statuses seen per operation label."""
    statuses: dict[str, set[int]] = {}
    undocumented: dict[str, set[int]] = {}
    for op in ops:
        allowed = documented(op)

        @given(case=op.as_strategy(GenerationMode.POSITIVE) | op.as_strategy(GenerationMode.NEGATIVE))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token_for(case)}"},
                                 timeout=10 * TIMEOUT_FACTOR)  # bcrypt on a shared, loaded machine
            statuses.setdefault(case.operation.label, set()).add(response.status_code)
            if response.status_code not in allowed:
                undocumented.setdefault(case.operation.label, set()).add(response.status_code)
                return  # its schema is unknown; the status is reported below
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        run()
    _record(statuses)
    assert all(code < 500 for codes in statuses.values() for code in codes)
    assert not undocumented, f"statuses the OpenAPI does not list: {undocumented}"
    return statuses
