"""What the API says about series, read from one partition's rows of the history table.

The listing reads meta rows only (a seek and a scan of one key range per partition); the
detail of one series reads its history chunks, its window and its alert intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from padit_stream.alerting.matchers import Matcher, matches_all
from padit_stream.api.times import format_time
from padit_stream.core.alert_intervals import decode_intervals, intervals_key
from padit_stream.core.history import (
    SCORES,
    VALUES,
    Bucket,
    HistoryConfig,
    Summary,
    decode_labels,
    labels_key,
    meta_key,
    read_buckets,
    summary,
)
from padit_stream.schema import parse_metric_key

__all__ = ["SeriesFilter", "classify", "detail", "list_series", "merge_history"]

STATES = ("ok", "anomalous", "alerting", "stale")
Get = Callable[[bytes], bytes | None]


@dataclass(frozen=True)
class SeriesFilter:
    """The listing's filters and page position."""

    source: str | None = None
    metric: str | None = None
    matchers: tuple[Matcher, ...] = ()
    state: str | None = None
    after: tuple[str, str] | None = None


def classify(
    alert_phase: str,
    last_wall: float,
    now: float,
    stale_after: float,
    last_score: float | None,
    threshold: float,
) -> str:
    """The state of a series, worst first: alerting, stale, anomalous, ok.

    Example:
        >>> classify("firing", 0, 1e9, 300, 0.1, 0.5), classify("inactive", 0, 1e9, 300, 0.9, 0.5)
        ('alerting', 'stale')
        >>> classify("inactive", 1e9, 1e9, 300, 0.9, 0.5)
        'anomalous'
    """
    if alert_phase == "firing":
        return "alerting"
    if now - last_wall > stale_after:
        return "stale"
    if last_score is not None and last_score > threshold:
        return "anomalous"
    return "ok"


def _tag(s: Summary | None) -> dict[str, Any]:
    if s is None or not s.tag:
        return {}
    try:
        doc = orjson.loads(s.tag)
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def list_series(
    rows: Iterable[tuple[int, bytes, bytes]],
    get: Callable[[int, bytes], bytes | None],
    *,
    flt: SeriesFilter,
    alert_phase: Callable[[int, str, str, str], str],
    now: float,
    stale_after: float,
    threshold: float,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The first ``limit`` matching series in (source_id, metric_name) order.

    ``rows`` are (partition, key, value) of value meta rows; ``get(partition, key)`` reads
    a row; ``alert_phase(partition, source_id, metric_name, detector)`` gives each series'
    alert phase. The filters on names and the page position cost a key parse; labels,
    scores and alert states are read only for the series that pass them, in order, until
    the page is full.
    """
    prefix = len(meta_key(VALUES, b""))
    candidates = []
    for partition, row_key, raw in rows:
        key = row_key[prefix:]
        source_id, metric_name = parse_metric_key(key)
        if flt.source is not None and source_id != flt.source:
            continue
        if flt.metric is not None and metric_name != flt.metric:
            continue
        if flt.after is not None and (source_id, metric_name) <= flt.after:
            continue
        candidates.append((source_id, metric_name, partition, key, raw))
    candidates.sort(key=lambda c: (c[0], c[1]))
    out: list[dict[str, Any]] = []
    for source_id, metric_name, partition, key, raw in candidates:
        if limit is not None and len(out) >= limit:
            break
        labels = decode_labels(get(partition, labels_key(key))) or {}
        if flt.matchers and not matches_all(
            flt.matchers, {**labels, "source_id": source_id, "metric_name": metric_name}
        ):
            continue
        values = summary(raw)
        assert values is not None
        scores = summary(get(partition, meta_key(SCORES, key)))
        detector = str(_tag(scores).get("detector", ""))
        phase = alert_phase(partition, source_id, metric_name, detector)
        last_score = scores.last_value if scores is not None else None
        state = classify(phase, values.last_wall, now, stale_after, last_score, threshold)
        if flt.state is not None and state != flt.state:
            continue
        out.append(
            {
                "source_id": source_id,
                "metric_name": metric_name,
                "labels": labels,
                "last_value": _finite(values.last_value),
                "last_time": format_time(values.last_time),
                "last_score": _finite(last_score),
                "state": state,
                "detector": detector or None,
                "alert_state": phase,
            }
        )
    return out


def merge_history(
    values: list[Bucket],
    scores: list[Bucket],
    step: float,
    since: float | None,
    until: float | None,
) -> list[dict[str, Any]]:
    """Per-bucket points: value min/mean/max and the highest score (``None`` where absent)."""
    by: dict[int, dict[str, Any]] = {}
    for b in values:
        by[b.number] = {"min": b.min, "mean": b.mean, "max": b.max, "score_max": None}
    for b in scores:
        point = by.setdefault(b.number, {"min": None, "mean": None, "max": None})
        point["score_max"] = b.max
    out = []
    for number in sorted(by):
        start = number * step
        if (since is not None and start < since) or (until is not None and start > until):
            continue
        point = by[number]
        out.append({"time": format_time(start), **{k: _num(v) for k, v in point.items()}})
    return out


def _num(x: Any) -> Any:
    return x if not isinstance(x, float) or math.isfinite(x) else None


def detail(
    key: bytes,
    get: Get,
    config: HistoryConfig,
    window: Any,
    *,
    since: float | None,
    until: float | None,
) -> dict[str, Any] | None:
    """The document of one series (``None``: this partition holds nothing of it)."""
    values_state, values = read_buckets(key, config, VALUES, get)
    scores_state, scores = read_buckets(key, config, SCORES, get)
    if not values and len(window) == 0:
        return None
    source_id, metric_name = parse_metric_key(key)
    tag = _tag(summary(get(meta_key(SCORES, key))))
    features = window.features() if len(window) else None
    last_score = _finite(scores_state.last_value) if scores else None
    return {
        "source_id": source_id,
        "metric_name": metric_name,
        "labels": values_state.labels or {},
        "window": {
            "count": len(window),
            "first_time": format_time(window.first_ts) if len(window) else None,
            "last_time": format_time(window.max_ts) if len(window) else None,
            "span_sec": window.span,
        },
        "features": {k: _num(v) for k, v in features._asdict().items()} if features else None,
        "explanation": {
            "detector": tag.get("detector"),
            "score": last_score,
            "time": format_time(scores_state.last_time) if scores else None,
            "evidence": tag.get("evidence", {}),
        },
        "history": merge_history(values, scores, config.step, since, until),
        "alert_intervals": [
            {
                "alert_id": i.alert_id,
                "starts_at": format_time(i.starts_at),
                "ends_at": format_time(i.ends_at),
                "severity": i.severity,
            }
            for i in decode_intervals(get(intervals_key(key)))
        ],
    }
