"""Routing, grouping and notification timing (group_wait, group_interval, repeat)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from padit_stream.alerting.config import AlertingConfig, RouteConfig
from padit_stream.alerting.dispatch import Dispatcher, GroupState
from padit_stream.alerting.inhibit import Inhibitor
from padit_stream.alerting.mute import mute_alert
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.route import Router
from padit_stream.alerting.silence import SilenceStore
from padit_stream.schema import Alert, fingerprint


def make_alert(
    source: str = "ru-1",
    metric: str = "rtt_ms",
    *,
    status: str = "firing",
    severity: str = "warning",
    alert_id: str | None = None,
    starts_at: float = 0.0,
) -> Alert:
    fp = fingerprint(source, metric, "zscore", {})
    return Alert(
        alert_id=alert_id or f"id-{fp}",
        fingerprint=fp,
        timestamp=starts_at,
        source_id=source,
        metric_name=metric,
        detector="zscore",
        severity=severity,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        title=f"{metric} anomalous on {source}",
        description="d",
        score=0.8,
        peak_score=0.8,
        starts_at=starts_at,
        ends_at=starts_at + 100 if status == "resolved" else None,
        labels={
            "alertname": "PaditAnomaly",
            "source_id": source,
            "metric_name": metric,
            "severity": severity,
        },
        annotations={"summary": f"{metric} on {source}"},
    )


def resolved(alert: Alert) -> Alert:
    return replace(alert, status="resolved", ends_at=alert.starts_at + 100)


def config(**route: object) -> AlertingConfig:
    base: dict[str, object] = {
        "receiver": "team",
        "group_by": ["source_id"],
        "group_wait": 30,
        "group_interval": 300,
        "repeat_interval": 3600,
    }
    base.update(route)
    return AlertingConfig.model_validate(
        {
            "route": base,
            "receivers": [{"name": "team"}, {"name": "pager"}, {"name": "audit"}],
            "inhibit_rules": [
                {
                    "source_matchers": ['metric_name="up"'],
                    "target_matchers": ['metric_name=~".*latency.*"'],
                    "equal": ["source_id"],
                }
            ],
        }
    )


class Groups:
    """What the notification stage wires: the inhibitor sees every alert, and the
    dispatcher mutes with the silences and the inhibitor at flush time."""

    def __init__(self, cfg: AlertingConfig, silences: SilenceStore | None = None) -> None:
        self.silences = silences if silences is not None else SilenceStore()
        self.inhibitor = Inhibitor(cfg.inhibit_rules)
        self.dispatcher = Dispatcher(cfg, self.mute)
        self.groups = self.dispatcher.groups

    def mute(self, alert: Alert, now: float) -> Alert:
        return mute_alert(alert, now, self.silences, self.inhibitor)

    def on_alert(self, alert: Alert, now: float) -> None:
        self.inhibitor.observe(alert)
        self.dispatcher.on_alert(alert, now)

    def due(self, now: float) -> list[Notification]:
        return self.dispatcher.due(now)

    def next_due(self) -> float | None:
        return self.dispatcher.next_due()


def fps(n: Notification) -> list[tuple[str, str]]:
    return [(a.source_id + "/" + a.metric_name, a.status) for a in n.alerts]


def test_router_picks_first_matching_child_and_inherits() -> None:
    router = Router(
        config(
            routes=[
                {"matchers": ['severity="critical"'], "receiver": "pager", "group_wait": 5},
                {"matchers": ['severity=~"critical|warning"'], "receiver": "audit"},
            ]
        )
    )
    (crit,) = router.route({"severity": "critical", "source_id": "ru-1"})
    assert (crit.receiver, crit.group_wait, crit.group_interval) == ("pager", 5.0, 300.0)
    assert crit.group_labels == {"source_id": "ru-1"}
    (warn,) = router.route({"severity": "warning", "source_id": "ru-1"})
    assert warn.receiver == "audit"
    (info,) = router.route({"severity": "info", "source_id": "ru-1"})
    assert info.receiver == "team"
    assert len({crit.group_key, warn.group_key, info.group_key}) == 3


def test_router_continue_sends_to_several_receivers() -> None:
    router = Router(
        config(
            routes=[
                {"matchers": ['severity="critical"'], "receiver": "audit", "continue": True},
                {"matchers": ['severity="critical"'], "receiver": "pager"},
            ]
        )
    )
    assert [t.receiver for t in router.route({"severity": "critical"})] == ["audit", "pager"]


def test_group_by_all_labels() -> None:
    router = Router(RouteConfig(receiver="team", group_by=["..."]))
    (t,) = router.route({"b": "2", "a": "1"})
    assert t.group_labels == {"a": "1", "b": "2"}


def test_default_timings_are_alertmanagers() -> None:
    (t,) = Router(RouteConfig(receiver="x")).route({"alertname": "A", "source_id": "s"})
    assert (t.group_wait, t.group_interval, t.repeat_interval) == (30.0, 300.0, 14400.0)
    assert t.group_labels == {"alertname": "A", "source_id": "s"}
    # Alertmanager's group key shape: route path, then the group labels.
    assert t.group_key == '{}:{alertname="A", source_id="s"}'


def test_group_wait_then_one_notification_for_the_group() -> None:
    groups = Groups(config())
    groups.on_alert(make_alert("ru-1", "rtt_ms"), now=1000.0)
    groups.on_alert(make_alert("ru-1", "loss"), now=1010.0)
    groups.on_alert(make_alert("ru-2", "rtt_ms"), now=1020.0)
    assert groups.due(1029.0) == []
    first = groups.due(1030.0)
    assert [n.group_labels for n in first] == [{"source_id": "ru-1"}]
    assert sorted(fps(first[0])) == [("ru-1/loss", "firing"), ("ru-1/rtt_ms", "firing")]
    assert first[0].status == "firing" and first[0].receiver == "team"
    second = groups.due(1050.0)
    assert [n.group_labels for n in second] == [{"source_id": "ru-2"}]
    assert groups.next_due() == 1330.0


def test_new_alert_waits_for_group_interval() -> None:
    groups = Groups(config())
    groups.on_alert(make_alert("ru-1", "rtt_ms"), now=0.0)
    assert len(groups.due(30.0)) == 1
    groups.on_alert(make_alert("ru-1", "loss"), now=40.0)
    assert groups.due(100.0) == []
    (n,) = groups.due(330.0)
    assert sorted(fps(n)) == [("ru-1/loss", "firing"), ("ru-1/rtt_ms", "firing")]
    assert not n.repeat


def test_unchanged_group_repeats_only_after_repeat_interval() -> None:
    groups = Groups(config())
    a = make_alert()
    groups.on_alert(a, now=0.0)
    assert len(groups.due(30.0)) == 1
    # The same record again is not a change.
    groups.on_alert(a, now=100.0)
    sent = []
    for t in range(330, 3630, 300):
        sent += groups.due(float(t))
    assert sent == []
    (n,) = groups.due(3630.0)
    assert n.repeat and fps(n) == [("ru-1/rtt_ms", "firing")]


def test_resolution_is_notified_then_the_group_goes() -> None:
    groups = Groups(config())
    a = make_alert()
    groups.on_alert(a, now=0.0)
    groups.due(30.0)
    groups.on_alert(resolved(a), now=50.0)
    (n,) = groups.due(330.0)
    assert n.status == "resolved" and fps(n) == [("ru-1/rtt_ms", "resolved")]
    assert groups.groups == {}


def test_alert_that_resolves_before_group_wait_is_never_notified() -> None:
    groups = Groups(config())
    a = make_alert()
    groups.on_alert(a, now=0.0)
    groups.on_alert(resolved(a), now=10.0)
    assert groups.due(30.0) == []
    assert groups.groups == {}


def test_escalation_and_new_incident_are_changes() -> None:
    groups = Groups(config())
    a = make_alert()
    groups.on_alert(a, now=0.0)
    groups.due(30.0)
    groups.on_alert(replace(a, severity="critical"), now=60.0)
    (n,) = groups.due(330.0)
    assert [x.severity for x in n.alerts] == ["critical"]
    groups.on_alert(replace(a, severity="critical", alert_id="other-incident"), now=400.0)
    (n,) = groups.due(630.0)
    assert [x.alert_id for x in n.alerts] == ["other-incident"]


def test_notification_ids_are_unique_and_reproducible() -> None:
    def ids() -> list[str]:
        groups = Groups(config())
        a = make_alert()
        groups.on_alert(a, now=0.0)
        out = groups.due(30.0)
        groups.on_alert(resolved(a), now=40.0)
        return [n.id for n in out + groups.due(330.0)]

    first = ids()
    assert len(set(first)) == 2 and first == ids()


def test_a_recreated_group_gets_new_notification_ids() -> None:
    groups = Groups(config())
    a = make_alert()
    groups.on_alert(a, now=0.0)
    sent = groups.due(30.0)
    groups.on_alert(resolved(a), now=40.0)
    sent += groups.due(330.0)
    assert groups.groups == {}
    # The same series fires again: same group key, new group.
    groups.on_alert(replace(a, alert_id="second"), now=330.0)
    sent += groups.due(360.0)
    assert [n.status for n in sent] == ["firing", "resolved", "firing"]
    assert len({n.id for n in sent}) == 3


def test_silenced_alert_is_not_notified_until_the_silence_ends() -> None:
    silences = SilenceStore()
    silences.create(
        {
            "matchers": ['source_id="ru-1"'],
            "starts_at": 0,
            "ends_at": 500,
            "created_by": "me",
        },
        now=0.0,
    )
    groups = Groups(config(), silences)
    groups.on_alert(make_alert(), now=0.0)
    assert groups.due(30.0) == []
    assert groups.due(330.0) == []
    (n,) = groups.due(630.0)
    assert fps(n) == [("ru-1/rtt_ms", "firing")]
    assert n.alerts[0].mute_status.state == "active"


def test_resolution_of_a_notified_alert_is_sent_even_if_silenced_since() -> None:
    silences = SilenceStore()
    groups = Groups(config(), silences)
    a = make_alert()
    groups.on_alert(a, now=0.0)
    assert len(groups.due(30.0)) == 1
    silences.create(
        {"matchers": ['source_id="ru-1"'], "starts_at": 0, "ends_at": 9e9, "created_by": "me"},
        now=40.0,
    )
    groups.on_alert(resolved(a), now=50.0)
    (n,) = groups.due(330.0)
    assert fps(n) == [("ru-1/rtt_ms", "resolved")]


def test_inhibited_alert_is_held_back_while_the_source_fires() -> None:
    groups = Groups(config())
    up = make_alert("ru-1", "up", severity="critical")
    groups.on_alert(up, now=0.0)
    groups.on_alert(make_alert("ru-1", "latency_ms"), now=0.0)
    groups.on_alert(make_alert("ru-2", "latency_ms"), now=0.0)
    out = groups.due(30.0)
    assert sorted(fps(n)[0] for n in out) == [("ru-1/up", "firing"), ("ru-2/latency_ms", "firing")]
    assert all(len(n.alerts) == 1 for n in out)
    groups.on_alert(resolved(up), now=100.0)
    (n,) = groups.due(330.0)
    assert sorted(fps(n)) == [("ru-1/latency_ms", "firing"), ("ru-1/up", "resolved")]


def test_groups_survive_a_restart_from_their_rows() -> None:
    cfg = config()
    groups = Groups(cfg)
    groups.on_alert(make_alert("ru-1", "up"), now=0.0)
    groups.on_alert(make_alert("ru-1", "latency_ms"), now=0.0)
    groups.due(30.0)
    restored = Dispatcher.from_rows(cfg, groups.dispatcher.rows(), groups.mute)
    assert restored.groups == groups.groups
    assert restored.nflog.entries == groups.dispatcher.nflog.entries
    inhibitor = Inhibitor.from_rows(cfg.inhibit_rules, groups.inhibitor.rows())
    assert inhibitor.sources == groups.inhibitor.sources
    assert restored.due(3630.0)[0].to_dict() == groups.due(3630.0)[0].to_dict()


def test_changed_rows_replay_to_the_same_state() -> None:
    cfg = config()
    groups = Groups(cfg)
    table: dict[bytes, bytes] = {}

    def persist() -> None:
        for key, value in groups.dispatcher.take_changes():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value

    a = make_alert("ru-1", "rtt_ms")
    for now, record in [(0.0, a), (5.0, make_alert("ru-2", "rtt_ms")), (40.0, resolved(a))]:
        groups.on_alert(record, now)
        persist()
        groups.due(now + 30.0)
        persist()
    assert table and sorted(table) == sorted(k for k, _ in groups.dispatcher.rows())
    restored = Dispatcher.from_rows(cfg, table.items())

    def timeless(d: dict[str, GroupState]) -> dict[str, GroupState]:
        return {k: replace(g, next_flush=0.0) for k, g in d.items()}

    # The next flush time is not stored: a restored group flushes at once, and its
    # notification log keeps that flush from sending again what was sent (ru-2's firing).
    assert timeless(restored.groups) == timeless(groups.groups)
    assert restored.nflog.entries == groups.dispatcher.nflog.entries
    (after_restart,) = restored.due(100.0)
    (unrestarted,) = groups.due(330.0)
    assert fps(after_restart) == fps(unrestarted) == [("ru-1/rtt_ms", "resolved")]
    assert after_restart.id == unrestarted.id


def test_notification_round_trips() -> None:
    groups = Groups(config())
    groups.on_alert(make_alert(), now=0.0)
    (n,) = groups.due(30.0)
    assert Notification.from_dict(n.to_dict()) == n
    assert n.common_labels()["source_id"] == "ru-1"


@pytest.mark.parametrize(
    "row",
    [
        (b"group\0team\0g", b""),
        (b"group\0team\0g", b"[]"),
        (b"nflog\0team\0g", b'{"firing": 1}'),
        (b"group\0team\0g", b'{"group_key": "g"}'),
    ],
)
def test_from_rows_rejects_garbage(row: tuple[bytes, bytes]) -> None:
    from padit_stream.errors import DecodeError

    with pytest.raises(DecodeError):
        Dispatcher.from_rows(config(), [row])


def test_escalation_routed_elsewhere_still_updates_the_first_receiver() -> None:
    groups = Groups(config(routes=[{"matchers": ['severity="critical"'], "receiver": "pager"}]))
    a = make_alert(severity="warning")
    groups.on_alert(a, now=0.0)
    (first,) = groups.due(30.0)
    assert first.receiver == "team"
    crit = replace(a, severity="critical", labels={**a.labels, "severity": "critical"})
    groups.on_alert(crit, now=60.0)
    sent = groups.due(330.0)
    assert sorted((n.receiver, n.alerts[0].severity) for n in sent) == [
        ("pager", "critical"),
        ("team", "critical"),
    ]
    groups.on_alert(resolved(crit), now=400.0)
    sent = groups.due(630.0)
    assert sorted((n.receiver, n.status) for n in sent) == [
        ("pager", "resolved"),
        ("team", "resolved"),
    ]
    assert groups.groups == {}


def test_rows_of_a_group_left_half_dropped_are_deleted_on_load() -> None:
    cfg = config()
    groups = Groups(cfg)
    groups.on_alert(make_alert("ru-1"), now=0.0)
    groups.due(30.0)
    rows = dict(groups.dispatcher.rows())
    orphan = next(k for k in rows if k.startswith(b"alert\0"))
    # The group's alert rows are gone but its own row and log entry are not; and an alert
    # row of a group with no row of its own.
    half = {k: v for k, v in rows.items() if not k.startswith(b"alert\0")}
    half[orphan.replace(b"ru-1", b"ru-9")] = rows[orphan]
    restored = Dispatcher.from_rows(cfg, half.items())
    assert restored.groups == {}
    assert sorted(restored.take_changes()) == sorted((k, None) for k in half)
