"""Verdicts: codec round trip, consistency rules, folding the compacted topic, label windows."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from padit_stream.errors import DecodeError
from padit_stream.feedback import (
    Feedback,
    decode_feedback,
    encode_feedback,
    label_windows,
    labelled_series,
    latest_by_id,
    withdraw,
)


def _v(**kw: Any) -> Feedback:
    base: dict[str, Any] = {
        "id": "v1",
        "target": "anomaly",
        "verdict": "true_positive",
        "source_id": "du-1",
        "metric_name": "rtt_ms",
        "at": 1000.0,
        "author": "ana",
        "created_at": 2000.0,
    }
    base.update(kw)
    return Feedback(**base)


@pytest.mark.parametrize(
    "verdict",
    [
        _v(),
        _v(verdict="false_positive", comment="planned maintenance"),
        _v(target="alert", alert_id="0123456789abcdef"),
        _v(target="range", verdict="missed", at=None, start=10.0, end=20.0),
        withdraw(_v(), by="bob", at=3000.0),
    ],
)
def test_round_trip(verdict: Feedback) -> None:
    key, value = encode_feedback(verdict)
    assert key == verdict.id.encode()
    assert decode_feedback(key, value) == verdict


@pytest.mark.parametrize(
    ("kw", "field_hint"),
    [
        ({"target": "range", "verdict": "missed", "start": 5.0, "end": 5.0}, "start < end"),
        ({"target": "range", "verdict": "true_positive", "start": 1.0, "end": 5.0}, "missed"),
        ({"verdict": "missed"}, "true_positive or false_positive"),
        ({"at": None}, "'at'"),
        ({"target": "alert"}, "alert_id"),
        ({"withdrawn_at": 5.0}, "withdrawn_by"),
        ({"author": ""}, "author"),
    ],
)
def test_inconsistent_verdicts_are_refused(kw: dict[str, Any], field_hint: str) -> None:
    with pytest.raises(ValueError, match=field_hint):
        _v(**kw)


def test_decode_names_the_bad_field_and_refuses_garbage() -> None:
    record = orjson.loads(encode_feedback(_v())[1])
    record["created_at"] = "yesterday"
    with pytest.raises(DecodeError, match="created_at"):
        decode_feedback(b"v1", orjson.dumps(record))
    with pytest.raises(DecodeError, match="not JSON"):
        decode_feedback(b"v1", b"{oops")
    with pytest.raises(DecodeError, match="not the verdict id"):
        decode_feedback(b"other", encode_feedback(_v())[1])
    assert decode_feedback(b"v1", None) is None


def test_latest_state_wins_and_tombstones_delete() -> None:
    a, b = _v(id="a"), _v(id="b", verdict="false_positive")
    a_off = withdraw(a, by="bob", at=3000.0)
    state = latest_by_id([(b"a", a), (b"b", b), (b"a", a_off), (b"b", None)])
    assert state == {"a": a_off}
    assert labelled_series(state.values()) == set()


def test_label_windows_merge_overlaps_and_ignore_false_positives() -> None:
    verdicts = [
        _v(id="1", at=1000.0),
        _v(id="2", target="range", verdict="missed", at=None, start=1020.0, end=1500.0),
        _v(id="3", verdict="false_positive", at=5000.0),
        _v(id="4", metric_name="loss", at=100.0),
        withdraw(_v(id="5", metric_name="loss", at=9000.0), by="ana", at=1.0),
    ]
    windows = label_windows(verdicts, anomaly_window_sec=100.0)
    assert windows == {
        ("du-1", "loss"): [(50.0, 150.0)],
        ("du-1", "rtt_ms"): [(950.0, 1500.0)],
    }
    assert labelled_series(verdicts) == {("du-1", "loss"), ("du-1", "rtt_ms")}
