"""Everything the API reads from or changes in the alerting package, in one module.

The API's views and the notification agent call only this module for alerts, incidents and
silences, so that a change in how the alerting package keeps them is a change here alone.
The incident log (:mod:`padit_stream.alerting.incidents`) of a notification stage lives as
long as the stage; it learns of deliveries by watching the stage's outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from padit_stream.alerting import AlertState, Matcher, Silence
from padit_stream.alerting.incidents import INCIDENT_PREFIX, IncidentLog
from padit_stream.alerting.nflog import OutboxEntry
from padit_stream.alerting.stage import PARTITION, NotificationStage
from padit_stream.api.times import format_time
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert, fingerprint
from padit_stream.stream import Stream

__all__ = [
    "alert_detail",
    "create_silence",
    "expire_silence",
    "get_silence",
    "list_alerts",
    "list_silences",
    "pending_alerts",
    "record_alert",
    "series_alert_phase",
]

logger = logging.getLogger(__name__)

_logs: WeakKeyDictionary[NotificationStage, IncidentLog] = WeakKeyDictionary()


def series_alert_phase(stream: Stream, partition: int, source_id: str, metric_name: str,
                       detector: str) -> str:  # fmt: skip
    """``inactive``, ``pending`` or ``firing``: the lifecycle phase of a series' alert."""
    if not detector:
        return "inactive"
    key = fingerprint(source_id, metric_name, detector, {}).encode()
    raw: Any = stream.alert_states.rows.get(partition, key)
    if raw is None:
        return "inactive"
    try:
        return str(AlertState.decode(raw).phase)
    except DecodeError:
        return "inactive"


def _incidents(stage: NotificationStage) -> IncidentLog:
    log = _logs.get(stage)
    if log is None:
        log = IncidentLog.from_rows(
            stage.store.items(PARTITION, INCIDENT_PREFIX), retention=stage.config.data_retention
        )
        _logs[stage] = log
        _watch_deliveries(stage, log)
    return log


def _save(stage: NotificationStage, log: IncidentLog) -> None:
    rows = log.take_changes()
    if rows:
        stage.store.write(PARTITION, rows)


def _watch_deliveries(stage: NotificationStage, log: IncidentLog) -> None:
    """Note each delivery, retry and failure in the incidents of the alerts it was about."""
    delivery = stage.delivery
    forward = delivery.on_change
    queued: dict[str, OutboxEntry] = {}
    attempts: dict[str, int] = {}

    def on_change(key: str, entry: OutboxEntry | None) -> None:
        if forward is not None:
            forward(key, entry)
        now = stage.clock()
        if entry is not None:
            if entry.last_error and entry.attempts != attempts.get(key, 0):
                outcome = f"retrying: {entry.last_error}"[:300]
                log.notified(entry.notification, entry.integration, outcome, now)
            attempts[key] = entry.attempts
            queued[key] = entry
        else:
            done = queued.pop(key, None)
            attempts.pop(key, None)
            if done is None:
                return  # queued before this stage was built: its alerts were noted then
            if key in delivery.outbox.delivered:
                outcome = "sent"
            else:
                outcome = f"failed: {done.last_error or 'given up'}"[:300]
            log.notified(done.notification, done.integration, outcome, now)
        _save(stage, log)

    delivery.on_change = on_change


def record_alert(stream: Stream, marked: Alert) -> None:
    """Note an alert record the notification stage published (called by its agent).

    Never raises: the incident log serves the API and must not cost a notification.
    """
    try:
        stage = stream.notification.get()
        log = _incidents(stage)
        now = stage.clock()
        log.observe(marked, now)
        log.gc(now)
        _save(stage, log)
    except Exception:
        logger.exception("incident log: cannot record alert %s", marked.alert_id)


def _item(stage: NotificationStage, alert: Alert, now: float, status: str = "") -> dict[str, Any]:
    marked = stage.mute(alert, now) if alert.status == "firing" and not status else alert
    targets = stage.dispatcher.router.route(alert.labels)
    return {
        "id": alert.alert_id,
        "fingerprint": alert.fingerprint,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "status": status or alert.status,
        "severity": alert.severity,
        "starts_at": format_time(alert.starts_at),
        "ends_at": format_time(alert.ends_at),
        "silenced_by": list(marked.mute_status.silenced_by),
        "inhibited_by": list(marked.mute_status.inhibited_by),
        "receivers": sorted({t.receiver for t in targets}),
        "group_key": targets[0].group_key if targets else None,
        "generator_url": alert.generator_url,
    }


def list_alerts(stream: Stream) -> list[dict[str, Any]]:
    """Firing and recently resolved alerts, as this worker's notification stage knows them
    (call on the stage's owner)."""
    stage = stream.notification.get()
    now = stage.clock()
    latest = {i.alert.alert_id: i.alert for i in _incidents(stage).incidents.values()}
    for alert in stage.dispatcher.alerts():
        known = latest.get(alert.alert_id)
        if known is None or alert.timestamp > known.timestamp:
            latest[alert.alert_id] = alert
    return [_item(stage, a, now) for a in latest.values()]


def pending_alerts(stream: Stream, partitions: Sequence[int]) -> list[dict[str, Any]]:
    """Alerts of the series in ``partitions`` that are pending (hot, not firing yet)."""
    stage = stream.notification.get()
    now = stage.clock()
    out = []
    for partition in partitions:
        for _, raw in stream.alert_states.rows.items(partition):
            try:
                state = AlertState.decode(raw)
            except DecodeError:
                continue
            if state.phase != "pending":
                continue
            alert = stream.lifecycle.engine.alert(state, state.last_seen, "firing")
            item = _item(stage, alert, now, status="pending")
            item.update(
                id=f"pending-{state.fingerprint}",
                starts_at=format_time(state.pending_since),
                ends_at=None,
            )
            out.append(item)
    return out


def alert_detail(stream: Stream, alert_id: str) -> dict[str, Any] | None:
    """One alert with its timeline and notifications (``None``: unknown here)."""
    stage = stream.notification.get()
    now = stage.clock()
    incident = _incidents(stage).incidents.get(alert_id)
    if incident is None:
        alert = next((a for a in stage.dispatcher.alerts() if a.alert_id == alert_id), None)
        if alert is None:
            return None
        return {**_item(stage, alert, now), "timeline": [], "notifications": []}
    return {
        **_item(stage, incident.alert, now),
        "timeline": [{"time": format_time(t), "event": e} for t, e in incident.timeline],
        "notifications": [
            {"time": format_time(t), "receiver": r, "integration": i, "outcome": o}
            for t, r, i, o in incident.notifications
        ],
    }


def silence_item(silence: Silence, now: float) -> dict[str, Any]:
    return {
        "id": silence.id,
        "matchers": [
            {
                "name": m.name,
                "value": m.value,
                "isRegex": m.op in ("=~", "!~"),
                "isEqual": m.op in ("=", "=~"),
            }
            for m in silence.matchers
        ],
        "matchers_text": "{" + ",".join(str(m) for m in silence.matchers) + "}",
        "starts_at": format_time(silence.starts_at),
        "ends_at": format_time(silence.ends_at),
        "created_by": silence.created_by,
        "comment": silence.comment,
        "status": silence.status(now),
        "updated_at": format_time(silence.updated_at),
    }


def _has(silence: Silence, wanted: Matcher) -> bool:
    """Alertmanager's silence filter: the silence has a matcher on the same label whose
    value satisfies ``wanted``."""
    return any(
        m.name == wanted.name and wanted.matches({m.name: m.value}) for m in silence.matchers
    )


def list_silences(stream: Stream, flt: Sequence[Matcher], expired: bool) -> list[dict[str, Any]]:
    stage = stream.notification.get()
    now = stage.clock()
    return [
        silence_item(s, now)
        for s in stage.silences.list(now, include_expired=expired)
        if all(_has(s, m) for m in flt)
    ]


def get_silence(stream: Stream, silence_id: str) -> dict[str, Any]:
    """Raises SilenceNotFoundError."""
    stage = stream.notification.get()
    return silence_item(stage.silences.get(silence_id), stage.clock())


def _note_muted(stage: NotificationStage, silence: Silence, event: str) -> None:
    log = _incidents(stage)
    for alert_id, incident in log.incidents.items():
        alert = incident.alert
        if alert.status == "firing" and all(m.matches(alert.labels) for m in silence.matchers):
            log.note(alert_id, stage.clock(), event)
    _save(stage, log)


def create_silence(stream: Stream, spec: Mapping[str, Any]) -> str:
    """Create a silence from a valid spec (epoch times, matcher texts); returns its id.

    Raises:
        SilenceError: the alerting package refuses the spec.
    """
    stage = stream.notification.get()
    silence = stage.create_silence(spec)
    _note_muted(stage, silence, f"silenced by {silence.id}")
    return silence.id


def expire_silence(stream: Stream, silence_id: str) -> dict[str, Any]:
    """Expire a silence now (an expired one is returned as it is).

    Raises:
        SilenceNotFoundError: there is no such silence.
    """
    stage = stream.notification.get()
    now = stage.clock()
    current = stage.silences.get(silence_id)
    if current.status(now) == "expired":
        return silence_item(current, now)
    silence = stage.expire_silence(silence_id)
    _note_muted(stage, silence, f"silence {silence.id} expired")
    return silence_item(silence, max(stage.clock(), silence.ends_at))
