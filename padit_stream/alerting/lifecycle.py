"""The alert lifecycle of one series: inactive → pending → firing → resolved.

Pure: :class:`AlertEngine` takes the series' :class:`AlertState` (or ``None``) and one
evaluation and returns the new state and the alert records to emit. Time is the event
time of the evaluations (or the watermark passed to :meth:`AlertEngine.on_tick`); the
engine never reads the clock, so a replay after a restart emits the same records with the
same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import orjson

from padit_stream.alerting.config import LifecycleConfig
from padit_stream.errors import DecodeError
from padit_stream.schema import SEVERITY_RANK, Alert, Anomaly, Severity, rfc3339

__all__ = ["AlertEngine", "AlertState", "Phase"]

Phase = Literal["inactive", "pending", "firing"]

#: Evidence values longer than this are cut in alert descriptions.
_EVIDENCE_TEXT_MAX = 60


@dataclass(slots=True)
class AlertState:
    """Lifecycle state of one series (one fingerprint); small and picklable.

    Store it in a table keyed by ``fingerprint``; :meth:`encode` gives bytes for a
    raw-bytes table.
    """

    fingerprint: str
    source_id: str
    metric_name: str
    detector: str
    labels: dict[str, str] = field(default_factory=dict)
    phase: Phase = "inactive"
    #: Incidents started so far; part of the alert id so every incident gets a new one.
    incident: int = 0
    alert_id: str = ""
    hot_count: int = 0
    pending_since: float | None = None
    starts_at: float | None = None
    clear_since: float | None = None
    last_seen: float = float("-inf")
    last_hot: float | None = None
    severity: Severity = "info"
    score: float = 0.0
    peak_score: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        """JSON bytes (``-inf`` is kept as ``null``)."""
        # Field by field: dataclasses.asdict deep-copies and costs ~10x more here.
        obj = {name: getattr(self, name) for name in _STATE_FIELDS}
        if obj["last_seen"] == float("-inf"):
            obj["last_seen"] = None
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)

    @classmethod
    def decode(cls, data: bytes) -> AlertState:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded state.
        """
        try:
            obj = orjson.loads(data)
            if obj.get("last_seen") is None:
                obj["last_seen"] = float("-inf")
            return cls(**obj)
        except (orjson.JSONDecodeError, TypeError, AttributeError) as exc:
            raise DecodeError(f"not an encoded AlertState: {exc}") from exc


_STATE_FIELDS = tuple(f.name for f in fields(AlertState))


class AlertEngine:
    """Turns evaluations into alert records, one incident per episode of a series.

    Example:
        >>> from padit_stream.alerting.config import LifecycleConfig
        >>> from padit_stream.schema import Anomaly
        >>> engine = AlertEngine(LifecycleConfig(keep_firing_for=60))
        >>> a = Anomaly(100.0, "du-1", "rtt_ms", score=0.95, is_anomaly=True, detector="z")
        >>> state, alerts = engine.on_anomaly(None, a)
        >>> [(x.status, x.severity) for x in alerts]
        [('firing', 'critical')]
        >>> def ok(t): return Anomaly(t, "du-1", "rtt_ms", 0.1, is_anomaly=False, detector="z")
        >>> state, alerts = engine.on_anomaly(state, ok(130.0))  # clear for 0 s: keeps firing
        >>> alerts
        []
        >>> state, alerts = engine.on_anomaly(state, ok(190.0))  # clear for 60 s: resolves
        >>> [x.status for x in alerts], alerts[0].ends_at
        (['resolved'], 190.0)
    """

    def __init__(self, config: LifecycleConfig | None = None, external_url: str = "") -> None:
        self.config = config or LifecycleConfig()
        self.external_url = external_url.rstrip("/")

    def on_anomaly(
        self, state: AlertState | None, anomaly: Anomaly
    ) -> tuple[AlertState, list[Alert]]:
        """Apply one evaluation of the series; returns the new state and records to emit.

        The state passed in is updated in place and returned (``None`` gives a new one);
        store the returned object (or its :meth:`AlertState.encode`) back in the table.

        An evaluation older than the last one seen changes nothing: lifecycle decisions
        need event time to move forward.
        """
        cfg = self.config
        s = state if state is not None else self.new_state(anomaly)
        ts = anomaly.timestamp
        if ts < s.last_seen:
            return s, []
        s.last_seen = ts
        hot = anomaly.score >= cfg.fire_threshold and (
            anomaly.is_anomaly or not cfg.require_is_anomaly
        )
        clear = anomaly.score < cfg.clear_threshold
        out: list[Alert] = []
        if s.phase == "inactive":
            if hot:
                s.phase = "pending"
                s.hot_count = 0
                s.pending_since = ts
                s.peak_score = 0.0
                self._hot(s, anomaly)
                self._maybe_fire(s, ts, out)
        elif s.phase == "pending":
            if hot:
                self._hot(s, anomaly)
                self._maybe_fire(s, ts, out)
            elif clear:
                self._reset(s)
        else:  # firing
            if hot:
                s.clear_since = None
                before = s.severity
                self._hot(s, anomaly)
                s.severity = self._severity(s, anomaly.score)
                if s.severity != before:
                    out.append(self.alert(s, ts, "firing"))
            elif clear:
                if s.clear_since is None:
                    s.clear_since = ts
                s.score = anomaly.score
                if ts - s.clear_since >= cfg.keep_firing_for:
                    out.append(self._resolve(s, ts))
            else:
                # In the hysteresis band: not clear, so the clear period starts over.
                s.clear_since = None
                s.score = anomaly.score
        return s, out

    def on_tick(self, state: AlertState, now: float) -> tuple[AlertState, list[Alert]]:
        """Resolve on time alone: ``now`` is the event-time watermark of the stream.

        A firing alert resolves when its clear period reached ``keep_firing_for`` with no
        later evaluation, or when the series sent no evaluation for ``stale_after``
        (a stage that only forwards anomalous evaluations relies on this). A pending
        series that went stale returns to inactive.
        """
        cfg = self.config
        s = state
        stale = now - s.last_seen >= cfg.stale_after
        if s.phase == "firing":
            if s.clear_since is not None and now - s.clear_since >= cfg.keep_firing_for:
                return s, [self._resolve(s, s.clear_since + cfg.keep_firing_for)]
            if stale:
                return s, [self._resolve(s, s.last_seen + cfg.stale_after)]
        elif s.phase == "pending" and stale:
            self._reset(s)
        return s, []

    def new_state(self, anomaly: Anomaly) -> AlertState:
        """The inactive state of the series ``anomaly`` belongs to."""
        return AlertState(
            fingerprint=anomaly.fingerprint,
            source_id=anomaly.source_id,
            metric_name=anomaly.metric_name,
            detector=anomaly.detector,
            labels=dict(anomaly.labels),
        )

    def alert(self, s: AlertState, ts: float, status: Literal["firing", "resolved"]) -> Alert:
        """The alert record of the current incident of ``s``."""
        cfg = self.config
        labels = {
            **s.labels,
            "alertname": cfg.alertname,
            "source_id": s.source_id,
            "metric_name": s.metric_name,
            "detector": s.detector,
            "severity": s.severity,
        }
        title = f"{s.metric_name} anomalous on {s.source_id}"
        if status == "resolved":
            description = (
                f"{s.metric_name} on {s.source_id} is back to normal (score {s.score:.2f}); "
                f"peak score {s.peak_score:.2f} from {s.detector or 'detector'}."
            )
        else:
            description = (
                f"{s.detector or 'detector'} scored {s.metric_name} on {s.source_id} "
                f"{s.score:.2f} (peak {s.peak_score:.2f}) since {rfc3339(s.starts_at)}."
                + _evidence_text(s.evidence)
            )
        ends_at = ts if status == "resolved" else None
        generator = f"{self.external_url}/api/v1/alerts/{s.alert_id}" if self.external_url else ""
        return Alert(
            alert_id=s.alert_id,
            fingerprint=s.fingerprint,
            timestamp=ts,
            source_id=s.source_id,
            metric_name=s.metric_name,
            detector=s.detector,
            severity=s.severity,
            status=status,
            title=title,
            description=description,
            score=s.score,
            peak_score=s.peak_score,
            starts_at=s.starts_at if s.starts_at is not None else ts,
            ends_at=ends_at,
            labels=labels,
            annotations={
                "summary": title,
                "description": description,
                "alert_id": s.alert_id,
                "score": f"{s.score:.3f}",
            },
            evidence=dict(s.evidence),
            generator_url=generator,
        )

    def _hot(self, s: AlertState, anomaly: Anomaly) -> None:
        s.hot_count += 1
        s.last_hot = anomaly.timestamp
        s.score = anomaly.score
        s.peak_score = max(s.peak_score, anomaly.score)
        s.evidence = dict(anomaly.evidence)

    def _severity(self, s: AlertState, score: float) -> Severity:
        new = self.config.severity.of(score)
        if self.config.escalate_only and SEVERITY_RANK[new] < SEVERITY_RANK[s.severity]:
            return s.severity
        return new

    def _maybe_fire(self, s: AlertState, ts: float, out: list[Alert]) -> None:
        cfg = self.config
        assert s.pending_since is not None
        if s.hot_count < cfg.for_evaluations or ts - s.pending_since < cfg.for_duration:
            return
        s.phase = "firing"
        s.incident += 1
        s.starts_at = ts
        s.clear_since = None
        # The worst score of the pending period sets the first severity, so holding an
        # alert with `for` never reports it milder than what was seen.
        s.severity = cfg.severity.of(s.peak_score if cfg.escalate_only else s.score)
        digest = hashlib.sha256(f"{s.fingerprint}:{s.incident}:{s.pending_since!r}".encode())
        s.alert_id = digest.hexdigest()[:20]
        out.append(self.alert(s, ts, "firing"))

    def _resolve(self, s: AlertState, ts: float) -> Alert:
        alert = self.alert(s, ts, "resolved")
        self._reset(s)
        return alert

    @staticmethod
    def _reset(s: AlertState) -> None:
        s.phase = "inactive"
        s.hot_count = 0
        s.pending_since = None
        s.clear_since = None


def _evidence_text(evidence: dict[str, Any]) -> str:
    if not evidence:
        return ""
    parts = []
    for key in sorted(evidence)[:6]:
        value = evidence[key]
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        if len(text) > _EVIDENCE_TEXT_MAX:
            text = text[: _EVIDENCE_TEXT_MAX - 1] + "…"
        parts.append(f"{key}={text}")
    return " Evidence: " + ", ".join(parts) + "."
