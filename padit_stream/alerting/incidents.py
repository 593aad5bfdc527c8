"""The incident log: each recent alert's latest record, its timeline and the notifications
sent about it, for the operator API (``GET /api/v1/alerts/{id}``).

The dispatcher forgets a resolved alert at its group's next flush; an on-call engineer still
wants to see it, when it fired, escalated, was silenced and resolved, and which receivers
were told. The notification stage's owner keeps one row per alert id (prefix
:data:`INCIDENT_PREFIX`, in the stage's table partition), rewritten when the alert changes
or a notification about it is delivered or fails. Resolved incidents are forgotten after
the retention; at most ``max_incidents`` are kept (the oldest resolved ones go first).

Pure: time is passed in, rows come and go through :meth:`IncidentLog.take_changes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from padit_stream.alerting.notification import Notification
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert

__all__ = ["INCIDENT_PREFIX", "Incident", "IncidentLog"]

INCIDENT_PREFIX = b"incident\0"
#: Entries kept per incident in its timeline and its notification list (the newest).
MAX_ENTRIES = 100

Row = tuple[bytes, bytes | None]


@dataclass(slots=True)
class Incident:
    """One alert id: its latest record, timeline and notifications."""

    alert: Alert
    #: (time, event) in the order they were seen.
    timeline: list[tuple[float, str]] = field(default_factory=list)
    #: (time, receiver, integration, outcome).
    notifications: list[tuple[float, str, str, str]] = field(default_factory=list)
    updated_at: float = 0.0

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "alert": self.alert.to_dict(),
                "timeline": self.timeline,
                "notifications": self.notifications,
                "updated_at": self.updated_at,
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> Incident:
        """Raises DecodeError for bytes that are not an encoded incident."""
        try:
            obj = orjson.loads(data)
            return cls(
                alert=Alert.from_dict(obj["alert"]),
                timeline=[(float(t), str(e)) for t, e in obj["timeline"]],
                notifications=[
                    (float(t), str(r), str(i), str(o)) for t, r, i, o in obj["notifications"]
                ],
                updated_at=float(obj["updated_at"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DecodeError(f"not an encoded incident: {exc}") from exc

    def note(self, when: float, event: str) -> None:
        self.timeline.append((when, event))
        del self.timeline[:-MAX_ENTRIES]


def _muting(alert: Alert) -> str:
    status = alert.mute_status
    parts = []
    if status.silenced_by:
        parts.append("silenced by " + ", ".join(status.silenced_by))
    if status.inhibited_by:
        parts.append("inhibited by " + ", ".join(status.inhibited_by))
    return "; ".join(parts)


class IncidentLog:
    """Incidents by alert id.

    Example:
        >>> from padit_stream.schema import Alert
        >>> a = Alert("a1", "fp", 100.0, "du-1", "rtt_ms", "z", "warning", "firing", "t", "d",
        ...           0.8, 0.8, 100.0)
        >>> log = IncidentLog()
        >>> log.observe(a, now=101.0)
        >>> log.observe(a.__class__(**{**a.to_dict(), "status": "resolved", "ends_at": 160.0,
        ...     "timestamp": 160.0, "mute_status": a.mute_status}), now=161.0)
        >>> [e for _, e in log.incidents["a1"].timeline]
        ['firing (warning)', 'resolved']
    """

    def __init__(
        self,
        incidents: dict[str, Incident] | None = None,
        retention: float = 120 * 3600.0,
        max_incidents: int = 2000,
    ) -> None:
        self.incidents: dict[str, Incident] = dict(incidents or {})
        self.retention = retention
        self.max_incidents = max_incidents
        self._changed: set[str] = set()
        self._gone: set[str] = set()

    def observe(self, alert: Alert, now: float) -> None:
        """Record an alert record as the notification stage published it (marked)."""
        incident = self.incidents.get(alert.alert_id)
        before_muting = _muting(incident.alert) if incident is not None else ""
        if incident is None:
            incident = self.incidents[alert.alert_id] = Incident(alert)
            if alert.status == "firing":
                incident.note(alert.starts_at, f"firing ({alert.severity})")
            else:
                incident.note(alert.ends_at or alert.timestamp, "resolved")
        else:
            before = incident.alert
            if alert.timestamp < before.timestamp:
                return  # an older record, replayed
            if alert.status != before.status:
                when = alert.ends_at if alert.status == "resolved" else alert.timestamp
                incident.note(when or alert.timestamp, alert.status)
            elif alert.severity != before.severity:
                incident.note(alert.timestamp, f"severity {before.severity} -> {alert.severity}")
            incident.alert = alert
        muting = _muting(alert)
        if muting != before_muting and alert.status == "firing":
            incident.note(now, muting or "no longer suppressed")
        incident.updated_at = now
        self._changed.add(alert.alert_id)
        self._trim()

    def note(self, alert_id: str, when: float, event: str) -> None:
        """Add an event (a silence created or expired over the alert) to an incident."""
        incident = self.incidents.get(alert_id)
        if incident is not None:
            incident.note(when, event)
            self._changed.add(alert_id)

    def notified(self, notification: Notification, integration: str, outcome: str,
                 now: float) -> None:  # fmt: skip
        """A notification to ``integration`` was delivered, retried or given up on."""
        for alert in notification.alerts:
            incident = self.incidents.get(alert.alert_id)
            if incident is None:
                continue
            incident.notifications.append((now, notification.receiver, integration, outcome))
            del incident.notifications[:-MAX_ENTRIES]
            self._changed.add(alert.alert_id)

    def gc(self, now: float) -> int:
        """Forget incidents resolved longer than the retention ago; returns how many."""
        old = [
            k
            for k, i in self.incidents.items()
            if i.alert.status == "resolved" and now - i.updated_at > self.retention
        ]
        for key in old:
            self._forget(key)
        return len(old)

    def _trim(self) -> None:
        excess = len(self.incidents) - self.max_incidents
        if excess <= 0:
            return
        # Resolved ones first, oldest first; firing ones only if nothing else is left.
        order = sorted(
            self.incidents.items(),
            key=lambda kv: (kv[1].alert.status == "firing", kv[1].updated_at),
        )
        for key, _ in order[:excess]:
            self._forget(key)

    def _forget(self, key: str) -> None:
        del self.incidents[key]
        self._changed.discard(key)
        self._gone.add(key)

    def take_changes(self) -> list[Row]:
        rows: list[Row] = [
            (INCIDENT_PREFIX + k.encode(), self.incidents[k].encode())
            for k in sorted(self._changed)
        ]
        rows += [(INCIDENT_PREFIX + k.encode(), None) for k in sorted(self._gone)]
        self._changed.clear()
        self._gone.clear()
        return rows

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[bytes, bytes]], **kwargs: Any) -> IncidentLog:
        """Rebuild from stored rows; rows of other prefixes are ignored.

        Raises:
            DecodeError: a row is not an encoded incident.
        """
        incidents = {
            k[len(INCIDENT_PREFIX) :].decode(): Incident.decode(v)
            for k, v in rows
            if k.startswith(INCIDENT_PREFIX)
        }
        return cls(incidents, **kwargs)
