"""Anomaly and Alert records: what the detection stage writes and the alert stage reads and
writes, as plain data with one codec each (``encode``/``to_dict`` and ``from_dict``)."""

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
    "MuteState",
    "MuteStatus",
    "Severity",
    "fingerprint",
    "rfc3339",
]

Severity = Literal["info", "warning", "critical"]
AlertStatus = Literal["firing", "resolved"]
MuteState = Literal["unprocessed", "active", "suppressed"]

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
class MuteStatus:
    """Whether an alert is muted and by what: Alertmanager's alert ``status`` object.

    ``unprocessed`` until the notification stage has looked at the alert, then ``active``
    or ``suppressed``; ``silenced_by`` lists silence ids, ``inhibited_by`` the
    fingerprints of the firing alerts that inhibit it.

    Example:
        >>> MuteStatus.of(("s1",), ()).to_dict()
        {'state': 'suppressed', 'silencedBy': ['s1'], 'inhibitedBy': []}
    """

    state: MuteState = "unprocessed"
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    @classmethod
    def of(cls, silenced_by: tuple[str, ...], inhibited_by: tuple[str, ...]) -> MuteStatus:
        """``suppressed`` when anything mutes the alert, else ``active``."""
        state: MuteState = "suppressed" if silenced_by or inhibited_by else "active"
        return cls(state, silenced_by, inhibited_by)

    @property
    def suppressed(self) -> bool:
        """Whether a silence or an inhibition mutes the alert."""
        return self.state == "suppressed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with Alertmanager's key names."""
        return {
            "state": self.state,
            "silencedBy": list(self.silenced_by),
            "inhibitedBy": list(self.inhibited_by),
        }

    @classmethod
    def from_dict(cls, obj: Any) -> MuteStatus:
        """Inverse of :meth:`to_dict` (``None`` gives ``unprocessed``).

        Raises:
            DecodeError: the state is not one of unprocessed|active|suppressed.
        """
        if obj is None:
            return cls()
        if not isinstance(obj, Mapping):
            raise DecodeError("field 'mute_status' must be an object")
        state = obj.get("state", "unprocessed")
        if state not in ("unprocessed", "active", "suppressed"):
            raise DecodeError(
                f"field 'mute_status.state' must be unprocessed|active|suppressed: {state!r}"
            )
        return cls(
            state,
            tuple(str(x) for x in obj.get("silencedBy") or ()),
            tuple(str(x) for x in obj.get("inhibitedBy") or ()),
        )


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields: the anomaly record."""
        return {
            "timestamp": self.timestamp,
            "source_id": self.source_id,
            "metric_name": self.metric_name,
            "score": self.score,
            "is_anomaly": self.is_anomaly,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "detector": self.detector,
            "labels": self.labels,
        }

    def encode(self) -> bytes:
        """The anomaly record's bytes.

        Example:
            >>> raw = Anomaly(1.0, "du-1", "rtt_ms", 0.9, True, detector="zscore").encode()
            >>> Anomaly.from_dict(orjson.loads(raw)).score
            0.9
        """
        return orjson.dumps(self.to_dict())


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert record: the state of one incident at one moment.

    ``alert_id`` is the same for every record of one incident (firing, escalations,
    resolution); ``fingerprint`` is the same for every incident of one series. ``status``
    is ``firing`` or ``resolved``, as in Alertmanager's webhook; ``mute_status`` says
    whether a silence or an inhibition rule mutes the alert (a suppressed alert is
    recorded but not notified), as the ``status`` object of Alertmanager's API does.
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
    mute_status: MuteStatus = MuteStatus()

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
            "mute_status": self.mute_status.to_dict(),
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
                mute_status=MuteStatus.from_dict(obj.get("mute_status")),
            )
        except KeyError as exc:
            raise DecodeError(f"alert record misses field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"alert record has a mistyped field: {exc}") from exc

    def encode(self) -> bytes:
        """JSON bytes of :meth:`to_dict` (a table value)."""
        return orjson.dumps(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> Alert:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded alert.
        """
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"not an encoded Alert: {exc}") from exc
        if not isinstance(obj, Mapping):
            raise DecodeError("not an encoded Alert: expected an object")
        return cls.from_dict(obj)

    @property
    def suppressed(self) -> bool:
        """Whether a silence or an inhibition mutes this alert."""
        return self.mute_status.suppressed

    def muted(self, silenced_by: tuple[str, ...], inhibited_by: tuple[str, ...]) -> Alert:
        """A copy marked with the silences and inhibiting alerts that mute it."""
        return replace(self, mute_status=MuteStatus.of(silenced_by, inhibited_by))

    def to_api(self) -> dict[str, Any]:
        """The alert as Alertmanager's API v2 lists it (``GET /api/v2/alerts``), with
        PADIT's ids and scores added."""
        return {
            "fingerprint": self.fingerprint,
            "alert_id": self.alert_id,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": rfc3339(self.starts_at),
            "endsAt": rfc3339(self.ends_at),
            "updatedAt": rfc3339(self.timestamp),
            "generatorURL": self.generator_url,
            "status": self.mute_status.to_dict(),
            "firing": self.status == "firing",
            "severity": self.severity,
            "score": self.score,
            "peak_score": self.peak_score,
        }
