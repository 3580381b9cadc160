"""Trace context parsing and the JSON log format with redaction."""

from __future__ import annotations

import logging

from shared import tracing
from shared.logging import REDACTED, redact
from tests.helpers import captured_json_logs

VALID = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_valid_traceparent_is_continued_as_a_child_span() -> None:
    ctx = tracing.continue_trace(VALID)
    assert ctx.trace_id == "0af7651916cd43dd8448eb211c80319c" and ctx.span_id != "b7ad6b7169203331"


def test_malformed_or_zero_traceparent_starts_a_new_trace() -> None:
    for bad in ("", "garbage", "00-" + "0" * 32 + "-b7ad6b7169203331-01", VALID.replace("00-", "zz-")):
        assert tracing.parse_traceparent(bad) is None
    assert len(tracing.continue_trace("garbage").trace_id) == 32


def test_outgoing_traceparent_keeps_the_current_trace() -> None:
    token = tracing.set_current(tracing.continue_trace(VALID))
    try:
        assert tracing.outgoing_traceparent().split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    finally:
        tracing.reset(token)


def test_redact_masks_secrets_and_personal_data_at_any_depth() -> None:
    doc = {"user": 1, "password": "hunter2", "nested": {"Authorization": "Bearer x", "list": [{"email": "a@b"}]}}
    assert redact(doc) == {"user": 1, "password": REDACTED,
                           "nested": {"Authorization": REDACTED, "list": [{"email": REDACTED}]}}


def test_log_line_is_json_with_trace_id_and_redacted_fields() -> None:
    token = tracing.set_current(tracing.continue_trace(VALID))
    try:
        with captured_json_logs("svc") as lines:
            logging.getLogger("t").info("hello %s", "world", extra={"fields": {"token": "abc", "n": 2}})
    finally:
        tracing.reset(token)
    (line,) = [x for x in lines if x["logger"] == "t"]
    assert line["message"] == "hello world" and line["service"] == "svc" and line["level"] == "INFO"
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["token"] == REDACTED and line["n"] == 2 and "ts" in line
