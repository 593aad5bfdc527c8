"""Operators' verdicts on detections: the model, its wire codec, and what the tuner learns.

A verdict says that an alert or an anomaly was a true or a false positive, or that a time
range of a series was anomalous and nothing fired (a missed incident). It names its author
and time, and can be withdrawn: a withdrawal is the same verdict (same ``id``) written again
with ``withdrawn_at``/``withdrawn_by`` set, so the compacted topic ``padit.feedback.v1``
(keyed by ``id``) keeps the latest state of each verdict and the record of who withdrew it.

Pure code: no Kafka client here (the topic is read by ``padit_stream.tuning.labels``).

Example:
    >>> v = Feedback(id="f1", target="range", verdict="missed", source_id="du-1",
    ...              metric_name="rtt_ms", start=100.0, end=400.0, author="ana",
    ...              created_at=500.0)
    >>> key, value = encode_feedback(v)
    >>> decode_feedback(key, value) == v
    True
    >>> label_windows([v], anomaly_window_sec=60.0)
    {('du-1', 'rtt_ms'): [(100.0, 400.0)]}
    >>> label_windows([withdraw(v, by="ana", at=600.0)], anomaly_window_sec=60.0)
    {}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from padit_stream.errors import DecodeError

__all__ = [
    "Feedback",
    "FeedbackTarget",
    "FeedbackVerdict",
    "decode_feedback",
    "encode_feedback",
    "label_windows",
    "labelled_series",
    "latest_by_id",
    "withdraw",
]

FeedbackTarget = Literal["alert", "anomaly", "range"]
FeedbackVerdict = Literal["true_positive", "false_positive", "missed"]


class Feedback(BaseModel):
    """One verdict on one series.

    ``alert`` and ``anomaly`` verdicts are ``true_positive`` or ``false_positive`` and give
    the detection's time ``at`` (an alert also its ``alert_id``, the fingerprint); a
    ``range`` verdict is ``missed`` and gives ``start < end``. Times are epoch seconds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    target: FeedbackTarget
    verdict: FeedbackVerdict
    source_id: str = Field(min_length=1)
    metric_name: str = Field(min_length=1)
    alert_id: str | None = None
    at: float | None = None
    start: float | None = None
    end: float | None = None
    author: str = Field(min_length=1)
    created_at: float
    comment: str = Field("", max_length=4096)
    withdrawn_at: float | None = None
    withdrawn_by: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Feedback:
        if self.target == "range":
            if self.verdict != "missed":
                raise ValueError("a range verdict must be 'missed'")
            if self.start is None or self.end is None or not self.start < self.end:
                raise ValueError("a range verdict needs start < end")
        else:
            if self.verdict == "missed":
                raise ValueError(f"an {self.target} verdict is true_positive or false_positive")
            if self.at is None:
                raise ValueError(f"an {self.target} verdict needs 'at' (the detection's time)")
            if self.target == "alert" and not self.alert_id:
                raise ValueError("an alert verdict needs 'alert_id'")
        if (self.withdrawn_at is None) != (self.withdrawn_by is None):
            raise ValueError("withdrawn_at and withdrawn_by go together")
        return self

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def series(self) -> tuple[str, str]:
        return (self.source_id, self.metric_name)


def withdraw(verdict: Feedback, by: str, at: float) -> Feedback:
    """The same verdict, withdrawn by ``by`` at ``at`` (to be written under the same key)."""
    return verdict.model_copy(update={"withdrawn_at": at, "withdrawn_by": by})


def encode_feedback(verdict: Feedback) -> tuple[bytes, bytes]:
    """Key (the verdict id, so compaction keeps its latest state) and JSON value."""
    return verdict.id.encode(), orjson.dumps(verdict.model_dump(exclude_none=True))


def decode_feedback(key: bytes | None, value: bytes | None) -> Feedback | None:
    """Decode one record of the feedback topic; ``None`` for a tombstone (deleted verdict).

    Raises:
        DecodeError: the value is not JSON, or not a valid verdict, or its id is not the key.
    """
    if value is None:
        return None
    try:
        verdict = Feedback.model_validate(orjson.loads(value))
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"feedback record is not JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in e['loc']) or '(record)'}': {e['msg']}"
            for e in exc.errors()
        )
        raise DecodeError(f"invalid feedback record: {problems}") from exc
    if key is not None and key != verdict.id.encode():
        raise DecodeError(f"feedback key {key!r} is not the verdict id {verdict.id!r}")
    return verdict


def latest_by_id(records: Iterable[tuple[bytes | None, Feedback | None]]) -> dict[str, Feedback]:
    """Fold records in topic order into each verdict's latest state (tombstones delete)."""
    out: dict[str, Feedback] = {}
    for key, verdict in records:
        if verdict is None:
            if key is not None:
                out.pop(key.decode(errors="replace"), None)
            continue
        out[verdict.id] = verdict
    return out


def labelled_series(verdicts: Iterable[Feedback]) -> set[tuple[str, str]]:
    """Series with at least one standing verdict: the ones an operator has looked at."""
    return {v.series for v in verdicts if not v.withdrawn}


def label_windows(
    verdicts: Iterable[Feedback], anomaly_window_sec: float
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Anomaly windows per series, in NAB's sense, from the standing verdicts.

    A missed incident is its range; a true positive at ``at`` stands for a window of
    ``anomaly_window_sec`` centred on it (NAB centres its windows on the labelled time).
    False positives add no window: outside every window a detection already counts as one.
    Overlapping windows of a series are merged.
    """
    raw: dict[tuple[str, str], list[tuple[float, float]]] = {}
    half = anomaly_window_sec / 2.0
    for v in verdicts:
        if v.withdrawn:
            continue
        if v.target == "range" and v.start is not None and v.end is not None:
            raw.setdefault(v.series, []).append((v.start, v.end))
        elif v.verdict == "true_positive" and v.at is not None:
            raw.setdefault(v.series, []).append((v.at - half, v.at + half))
    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for series, spans in raw.items():
        merged: list[tuple[float, float]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        out[series] = merged
    return dict(sorted(out.items()))
