"""The records on PADIT's topics, as Faust Records (the schema consumers can rely on).

The hot path does not build these objects: metrics are decoded with orjson
(:mod:`padit_stream.core.wire`) and features, anomalies and alerts are written as the same
JSON with orjson (:mod:`padit_stream.core.records`). These classes document the fields and
decode the topics for Faust consumers and tests.
"""

from __future__ import annotations

from typing import Any

import faust

__all__ = ["Alert", "Anomaly", "Features", "Metric"]


class Metric(faust.Record, serializer="json"):
    """One measurement of one source (what adapters publish)."""

    timestamp: float
    source_id: str
    metric_name: str
    value: float
    unit: str = ""
    metric_type: str = "gauge"
    protocol: str = ""
    labels: dict[str, str] = {}


class Features(faust.Record, serializer="json"):
    """Features of one series' window at ``window_end`` (see ``core.features``)."""

    source_id: str
    metric_name: str
    window_start: float
    window_end: float
    count: int
    mean: float
    std: float
    min: float
    max: float
    median: float
    p25: float
    p75: float
    p95: float
    p99: float
    trend: float
    ewma: float
    gradient: float
    cusum: float
    last: float


class Anomaly(faust.Record, serializer="json"):
    """One detector evaluation (every evaluation is published; ``is_anomaly`` marks hits)."""

    timestamp: float
    source_id: str
    metric_name: str
    score: float
    is_anomaly: bool
    confidence: float
    evidence: dict[str, Any]
    detector: str
    labels: dict[str, str] = {}


class Alert(faust.Record, serializer="json"):
    """An alert for an on-call engineer."""

    alert_id: str
    fingerprint: str
    timestamp: float
    source_id: str
    metric_name: str
    severity: str
    status: str
    title: str
    description: str
    evidence: dict[str, Any]
    labels: dict[str, str] = {}
