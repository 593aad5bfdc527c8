"""Records of the alert stage: the anomaly it reads and the alert it writes.

Both are plain data with ``to_dict``/``from_dict`` so that the stream job can carry them
as JSON and the web view can show them without importing Faust.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from padit_stream.errors import DecodeError

__all__ = [
    "Alert",
    "AlertStatus",
    "Anomaly",
    "Severity",
    "fingerprint",
    "rfc3339",
]

Severity = Literal["info", "warning", "critical"]
AlertStatus = Literal["firing", "resolved"]

#: Rank of each severity, for escalation (a higher rank is worse).
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


def fingerprint(source_id: str, metric_name: str, detector: str, labels: Mapping[str, str]) -> str:
    """Stable id of one alerting series: the same inputs give the same 16 hex digits.

    The hash covers a canonical JSON text (sorted labels, escaped strings) so that neither
    label order nor a value containing a separator character can make two series collide.

    Example:
        >>> fingerprint("du-1", "rtt_ms", "zscore", {"b": "2", "a": "1"}) == fingerprint(
        ...     "du-1", "rtt_ms", "zscore", {"a": "1", "b": "2"})
        True
    """
    canonical = orjson.dumps([source_id, metric_name, detector, sorted(labels.items())])
    h = hashlib.sha256(canonical)
    return h.hexdigest()[:16]


def rfc3339(ts: float | None) -> str:
    """Epoch seconds as RFC 3339 UTC text; ``None`` gives Alertmanager's zero time."""
    if ts is None:
        return "0001-01-01T00:00:00Z"
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _str_dict(raw: Any, name: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise DecodeError(f"field '{name}' must be an object, got {type(raw).__name__}")
    return {str(k): str(v) for k, v in raw.items()}


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One scored evaluation from a detector (anomalous or not)."""

    timestamp: float
    source_id: str
    metric_name: str
    score: float
    is_anomaly: bool
    detector: str = ""
    confidence: float = 1.0
    evidence: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Anomaly:
        """Build from the anomaly record's fields.

        Raises:
            DecodeError: a required field is missing or mistyped.
        """
        try:
            evidence = obj.get("evidence") or {}
            if not isinstance(evidence, Mapping):
                raise DecodeError("field 'evidence' must be an object")
            return cls(
                timestamp=float(obj["timestamp"]),
                source_id=str(obj["source_id"]),
                metric_name=str(obj["metric_name"]),
                score=float(obj["score"]),
                is_anomaly=bool(obj.get("is_anomaly", True)),
                detector=str(obj.get("detector") or ""),
                confidence=float(obj.get("confidence", 1.0)),
                evidence=dict(evidence),
                labels=_str_dict(obj.get("labels"), "labels"),
            )
        except KeyError as exc:
            raise DecodeError(f"anomaly record misses field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"anomaly record has a mistyped field: {exc}") from exc

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the series this evaluation belongs to."""
        return fingerprint(self.source_id, self.metric_name, self.detector, self.labels)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert record: the state of one incident at one moment.

    ``alert_id`` is the same for every record of one incident (firing, escalations,
    resolution); ``fingerprint`` is the same for every incident of one series.
    ``silenced`` is true when a silence or an inhibition rule mutes the alert; it is then
    emitted but not notified. ``silenced_by`` lists silence ids, ``inhibited_by`` the
    fingerprints of the alerts that inhibit it.
    """

    alert_id: str
    fingerprint: str
    timestamp: float
    source_id: str
    metric_name: str
    detector: str
    severity: Severity
    status: AlertStatus
    title: str
    description: str
    score: float
    peak_score: float
    starts_at: float
    ends_at: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    generator_url: str = ""
    silenced: bool = False
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (tuples become lists)."""
        return {
            "alert_id": self.alert_id,
            "fingerprint": self.fingerprint,
            "timestamp": self.timestamp,
            "source_id": self.source_id,
            "metric_name": self.metric_name,
            "detector": self.detector,
            "severity": self.severity,
            "status": self.status,
            "title": self.title,
            "description": self.description,
            "score": self.score,
            "peak_score": self.peak_score,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "evidence": dict(self.evidence),
            "generator_url": self.generator_url,
            "silenced": self.silenced,
            "silenced_by": list(self.silenced_by),
            "inhibited_by": list(self.inhibited_by),
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Alert:
        """Inverse of :meth:`to_dict`.

        Raises:
            DecodeError: a field is missing or mistyped.
        """
        try:
            severity = obj["severity"]
            status = obj["status"]
            if severity not in SEVERITY_RANK:
                raise DecodeError(f"field 'severity' must be info|warning|critical: {severity!r}")
            if status not in ("firing", "resolved"):
                raise DecodeError(f"field 'status' must be firing|resolved: {status!r}")
            ends_at = obj.get("ends_at")
            return cls(
                alert_id=str(obj["alert_id"]),
                fingerprint=str(obj["fingerprint"]),
                timestamp=float(obj["timestamp"]),
                source_id=str(obj["source_id"]),
                metric_name=str(obj["metric_name"]),
                detector=str(obj.get("detector", "")),
                severity=severity,
                status=status,
                title=str(obj.get("title", "")),
                description=str(obj.get("description", "")),
                score=float(obj.get("score", 0.0)),
                peak_score=float(obj.get("peak_score", obj.get("score", 0.0))),
                starts_at=float(obj["starts_at"]),
                ends_at=None if ends_at is None else float(ends_at),
                labels=_str_dict(obj.get("labels"), "labels"),
                annotations=_str_dict(obj.get("annotations"), "annotations"),
                evidence=dict(obj.get("evidence") or {}),
                generator_url=str(obj.get("generator_url", "")),
                silenced=bool(obj.get("silenced", False)),
                silenced_by=tuple(str(x) for x in obj.get("silenced_by") or ()),
                inhibited_by=tuple(str(x) for x in obj.get("inhibited_by") or ()),
            )
        except KeyError as exc:
            raise DecodeError(f"alert record misses field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"alert record has a mistyped field: {exc}") from exc

    def muted(self, silenced_by: tuple[str, ...], inhibited_by: tuple[str, ...]) -> Alert:
        """A copy marked with the silences and inhibiting alerts that mute it."""
        return replace(
            self,
            silenced=bool(silenced_by or inhibited_by),
            silenced_by=silenced_by,
            inhibited_by=inhibited_by,
        )
