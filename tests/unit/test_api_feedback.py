"""The feedback resource's body parsing: one error per bad field, RFC 3339 times."""

from __future__ import annotations

from typing import Any

import pytest

from padit_stream.api.errors import ApiError
from padit_stream.api.feedback import feedback_doc, parse_feedback
from padit_stream.feedback import withdraw

ALERT = {
    "target": "alert",
    "verdict": "false_positive",
    "source_id": "du-1",
    "metric_name": "rtt_ms",
    "alert_id": "0123456789abcdef",
    "at": "2026-01-01T00:00:00Z",
    "author": "ana",
}


def _fields(body: Any) -> set[str]:
    with pytest.raises(ApiError) as info:
        parse_feedback(body, now=0.0, new_id="x")
    assert info.value.status == 400
    return {f for f, _ in info.value.fields}


def test_a_valid_alert_verdict() -> None:
    v = parse_feedback(ALERT, now=5.0, new_id="x")
    assert (v.target, v.verdict, v.at, v.created_at) == (
        "alert",
        "false_positive",
        1767225600.0,
        5.0,
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"alert_id": None}, {"alert_id"}),
        ({"at": "2026-01-01"}, {"at"}),
        ({"at": 1767225600}, {"at"}),
        ({"target": "incident"}, {"target"}),
        ({"verdict": "missed"}, {"verdict"}),
        ({"source_id": 7, "author": ""}, {"source_id", "author"}),
        ({"target": "range", "verdict": "missed", "start": "2026-01-01T02:00:00Z",
          "end": "2026-01-01T01:00:00Z"}, {"end"}),
        ({"target": "range", "verdict": "true_positive"}, {"verdict", "start", "end"}),
        ({"severity": "high"}, {"severity"}),
    ],
)  # fmt: skip
def test_each_bad_field_is_named(change: dict[str, Any], named: set[str]) -> None:
    body = {k: v for k, v in {**ALERT, **change}.items() if v is not None}
    assert _fields(body) == named


def test_a_body_that_is_not_an_object() -> None:
    assert _fields([ALERT]) == {"body"}


def test_doc_gives_times_in_rfc3339_and_the_withdrawal() -> None:
    v = withdraw(parse_feedback(ALERT, now=1767225600.0, new_id="x"), by="bob", at=1767229200.0)
    doc = feedback_doc(v)
    assert doc["at"] == "2026-01-01T00:00:00.000Z"
    assert doc["withdrawn_at"] == "2026-01-01T01:00:00.000Z"
    assert doc["withdrawn"] is True and doc["withdrawn_by"] == "bob"
    assert doc["start"] is None
