"""Inhibition rules and marking emitted alerts as suppressed."""

from __future__ import annotations

import pytest

from padit_stream.alerting.config import InhibitRuleConfig, LifecycleConfig
from padit_stream.alerting.inhibit import Inhibitor
from padit_stream.alerting.lifecycle import AlertEngine
from padit_stream.alerting.mute import mute_alert
from padit_stream.alerting.silence import SilenceStore
from padit_stream.errors import DecodeError
from padit_stream.schema import Anomaly, MuteStatus

CRITICAL_MUTES_WARNING = InhibitRuleConfig(
    source_matchers=['severity="critical"'],
    target_matchers=['severity="warning"'],
    equal=["source_id"],
)
DOWN_MUTES_LATENCY = InhibitRuleConfig(
    source_matchers=['metric_name="up"'],
    target_matchers=['metric_name=~".*latency.*"'],
    equal=["source_id"],
)


def labels(source: str, metric: str, severity: str) -> dict[str, str]:
    return {"source_id": source, "metric_name": metric, "severity": severity}


def test_critical_mutes_warnings_of_the_same_source_only() -> None:
    inh = Inhibitor([CRITICAL_MUTES_WARNING])
    inh.track("crit", labels("ru-1", "loss", "critical"), firing=True)
    assert inh.inhibited_by("w1", labels("ru-1", "rtt", "warning")) == ("crit",)
    assert inh.inhibited_by("w2", labels("ru-2", "rtt", "warning")) == ()
    assert inh.inhibited_by("i1", labels("ru-1", "rtt", "info")) == ()
    inh.track("crit", labels("ru-1", "loss", "critical"), firing=False)
    assert inh.inhibited_by("w1", labels("ru-1", "rtt", "warning")) == ()


def test_missing_equal_label_counts_as_empty() -> None:
    inh = Inhibitor([CRITICAL_MUTES_WARNING])
    inh.track("c", {"severity": "critical"}, firing=True)
    assert inh.inhibited_by("w", {"severity": "warning"}) == ("c",)
    assert inh.inhibited_by("w", {"severity": "warning", "source_id": "x"}) == ()


def test_alerts_matching_both_sides_do_not_inhibit_each_other() -> None:
    rule = InhibitRuleConfig(
        source_matchers=['severity=~"critical|warning"'],
        target_matchers=['severity=~"warning|critical"'],
        equal=["source_id"],
    )
    inh = Inhibitor([rule])
    inh.track("a", labels("ru-1", "rtt", "critical"), firing=True)
    inh.track("b", labels("ru-1", "loss", "warning"), firing=True)
    assert inh.inhibited_by("a", labels("ru-1", "rtt", "critical")) == ()
    assert inh.inhibited_by("b", labels("ru-1", "loss", "warning")) == ()


def test_non_source_alerts_are_not_tracked() -> None:
    inh = Inhibitor([DOWN_MUTES_LATENCY])
    inh.track("x", labels("ru-1", "rtt", "critical"), firing=True)
    assert inh.sources == {} and inh.take_changes() == []


def test_engine_records_get_marked_when_an_oru_is_down() -> None:
    engine = AlertEngine(LifecycleConfig())
    inh = Inhibitor([DOWN_MUTES_LATENCY, CRITICAL_MUTES_WARNING])

    def emit(source: str, metric: str, score: float) -> list[tuple[str, bool, tuple[str, ...]]]:
        a = Anomaly(100.0, source, metric, score, True, "rule")
        _, alerts = engine.on_anomaly(None, a)
        out = []
        for alert in alerts:
            inh.observe(alert)
            marked = mute_alert(alert, 100.0, None, inh)
            status = marked.mute_status
            out.append((alert.metric_name, status.suppressed, status.inhibited_by))
        return out

    (down,) = emit("ru-1", "up", 0.99)
    assert down[:2] == ("up", False)
    up_fp = Anomaly(1, "ru-1", "up", 1, True, "rule").fingerprint
    assert emit("ru-1", "latency_ms", 0.75) == [("latency_ms", True, (up_fp,))]
    assert emit("ru-2", "latency_ms", 0.75) == [("latency_ms", False, ())]


def test_mute_combines_silences_and_inhibition() -> None:
    engine = AlertEngine()
    _, (alert,) = engine.on_anomaly(None, Anomaly(0.0, "ru-1", "latency_ms", 0.8, True, "z"))
    store = SilenceStore()
    store.create(
        {
            "matchers": ['metric_name="latency_ms"'],
            "starts_at": 0,
            "ends_at": 10,
            "created_by": "me",
        },
        now=0,
        silence_id="s",
    )
    assert mute_alert(alert, 5.0, store).mute_status == MuteStatus("suppressed", ("s",), ())
    assert mute_alert(alert, 11.0, store).mute_status == MuteStatus("active", (), ())
    assert alert.mute_status.state == "unprocessed"


def test_mute_status_round_trips_and_rejects_unknown_states() -> None:
    status = MuteStatus.of(("s1",), ("fp-up",))
    assert status.state == "suppressed"
    assert MuteStatus.from_dict(status.to_dict()) == status
    assert MuteStatus.from_dict(None) == MuteStatus("unprocessed")
    with pytest.raises(DecodeError, match=r"mute_status\.state"):
        MuteStatus.from_dict({"state": "silenced"})
