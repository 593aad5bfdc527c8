"""The incident log: timeline, notifications, retention and rows."""

from __future__ import annotations

from dataclasses import replace

from padit_stream.alerting.incidents import IncidentLog
from padit_stream.alerting.notification import Notification
from padit_stream.schema import Alert
from tests.unit.changelog import Rows

FIRING = Alert(
    "a1", "fp1", 100.0, "du-1", "rtt_ms", "z", "warning", "firing", "t", "d", 0.8, 0.8, 100.0,
    labels={"source_id": "du-1"},
)  # fmt: skip


def notification(*alerts: Alert) -> Notification:
    return Notification("n1", "default", "{}:{}", {}, "firing", alerts, 101.0)


def test_timeline_follows_the_alert() -> None:
    log = IncidentLog()
    log.observe(FIRING, now=101.0)
    critical = replace(FIRING, severity="critical")
    log.observe(replace(critical, timestamp=110.0), now=111.0)
    log.observe(replace(critical, timestamp=115.0).muted(("s1",), ()), now=116.0)
    log.observe(replace(critical, timestamp=118.0).muted((), ()), now=119.0)
    log.observe(replace(critical, timestamp=90.0, status="resolved"), now=120.0)  # older: ignored
    log.observe(replace(critical, timestamp=130.0, status="resolved", ends_at=130.0), now=131.0)
    events = [(t, e) for t, e in log.incidents["a1"].timeline]
    assert events == [
        (100.0, "firing (warning)"),
        (110.0, "severity warning -> critical"),
        (116.0, "silenced by s1"),
        (119.0, "no longer suppressed"),
        (130.0, "resolved"),
    ]
    assert log.incidents["a1"].alert.status == "resolved"


def test_notifications_are_noted_per_alert() -> None:
    log = IncidentLog()
    log.observe(FIRING, now=101.0)
    other = replace(FIRING, alert_id="a2", fingerprint="fp2")
    log.notified(notification(FIRING, other), "webhook[0]", "sent", now=102.0)
    assert log.incidents["a1"].notifications == [(102.0, "default", "webhook[0]", "sent")]
    assert "a2" not in log.incidents  # never observed: nothing to attach it to


def test_rows_round_trip_and_retention() -> None:
    rows = Rows()
    log = IncidentLog(retention=60.0, max_incidents=2)
    log.observe(FIRING, now=101.0)
    log.observe(replace(FIRING, alert_id="a2", status="resolved", ends_at=105.0), now=105.0)
    rows.apply(log.take_changes())
    again = IncidentLog.from_rows(rows.items(), retention=60.0)
    assert again.incidents == log.incidents
    assert log.gc(now=200.0) == 1  # a2 resolved long ago; a1 still fires
    log.observe(replace(FIRING, alert_id="a3"), now=201.0)
    log.observe(replace(FIRING, alert_id="a4"), now=202.0)  # over the bound: oldest firing goes
    assert sorted(log.incidents) == ["a3", "a4"]
    rows.apply(log.take_changes())
    assert sorted(k.split(b"\0")[1] for k in rows) == [b"a3", b"a4"]
