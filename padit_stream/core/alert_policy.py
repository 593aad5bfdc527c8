"""The seed's alert policy: which anomaly evaluations become alerts, and how severe."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson

__all__ = ["build_alert", "fingerprint", "severity_for"]


def severity_for(score: float, alert_threshold: float = 0.7, critical: float = 0.9) -> str | None:
    """``critical`` at or above ``critical``, ``warning`` at or above the alert threshold.

    Returns ``None`` below the alert threshold (no alert).
    """
    if score >= critical:
        return "critical"
    if score >= alert_threshold:
        return "warning"
    return None


def fingerprint(
    source_id: str, metric_name: str, detector: str, labels: dict[str, str] | None = None
) -> str:
    """Stable identity of an alert series (same inputs, same fingerprint, on every worker)."""
    canon = orjson.dumps([source_id, metric_name, detector, sorted((labels or {}).items())])
    return hashlib.sha256(canon).hexdigest()[:16]


def build_alert(anomaly: dict[str, Any], severity: str) -> dict[str, Any]:
    """An Alert record (as a dict) for one anomaly evaluation."""
    source_id = anomaly["source_id"]
    metric_name = anomaly["metric_name"]
    score = float(anomaly["score"])
    return {
        "alert_id": str(uuid.uuid4()),
        "fingerprint": fingerprint(
            source_id, metric_name, anomaly.get("detector", ""), anomaly.get("labels")
        ),
        "timestamp": anomaly["timestamp"],
        "source_id": source_id,
        "metric_name": metric_name,
        "severity": severity,
        "status": "firing",
        "title": f"{severity.upper()}: {metric_name} anomalous on {source_id}",
        "description": (
            f"{anomaly.get('detector', 'detector')} scored {score:.2f} for {metric_name} "
            f"on {source_id}"
        ),
        "evidence": anomaly.get("evidence", {}),
        "labels": anomaly.get("labels", {}),
    }
