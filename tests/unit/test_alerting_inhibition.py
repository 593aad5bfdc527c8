"""Inhibition rules and marking emitted alerts as silenced."""

from __future__ import annotations

from padit_stream.alerting.config import InhibitRuleConfig, LifecycleConfig
from padit_stream.alerting.inhibition import InhibitionState, Inhibitor
from padit_stream.alerting.lifecycle import AlertEngine
from padit_stream.alerting.model import Anomaly
from padit_stream.alerting.muting import mark_muted
from padit_stream.alerting.silences import SilenceStore

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
    inh, state = Inhibitor([CRITICAL_MUTES_WARNING]), InhibitionState()
    inh.track(state, "crit", labels("ru-1", "loss", "critical"), firing=True)
    assert inh.inhibited_by(state, "w1", labels("ru-1", "rtt", "warning")) == ("crit",)
    assert inh.inhibited_by(state, "w2", labels("ru-2", "rtt", "warning")) == ()
    assert inh.inhibited_by(state, "i1", labels("ru-1", "rtt", "info")) == ()
    inh.track(state, "crit", labels("ru-1", "loss", "critical"), firing=False)
    assert inh.inhibited_by(state, "w1", labels("ru-1", "rtt", "warning")) == ()


def test_missing_equal_label_counts_as_empty() -> None:
    inh, state = Inhibitor([CRITICAL_MUTES_WARNING]), InhibitionState()
    inh.track(state, "c", {"severity": "critical"}, firing=True)
    assert inh.inhibited_by(state, "w", {"severity": "warning"}) == ("c",)
    assert inh.inhibited_by(state, "w", {"severity": "warning", "source_id": "x"}) == ()


def test_alerts_matching_both_sides_do_not_inhibit_each_other() -> None:
    rule = InhibitRuleConfig(
        source_matchers=['severity=~"critical|warning"'],
        target_matchers=['severity=~"warning|critical"'],
        equal=["source_id"],
    )
    inh, state = Inhibitor([rule]), InhibitionState()
    inh.track(state, "a", labels("ru-1", "rtt", "critical"), firing=True)
    inh.track(state, "b", labels("ru-1", "loss", "warning"), firing=True)
    assert inh.inhibited_by(state, "a", labels("ru-1", "rtt", "critical")) == ()
    assert inh.inhibited_by(state, "b", labels("ru-1", "loss", "warning")) == ()


def test_non_source_alerts_are_not_tracked() -> None:
    inh, state = Inhibitor([DOWN_MUTES_LATENCY]), InhibitionState()
    inh.track(state, "x", labels("ru-1", "rtt", "critical"), firing=True)
    assert state.sources == {}
    assert InhibitionState.decode(state.encode()) == state


def test_engine_records_get_marked_when_an_oru_is_down() -> None:
    engine = AlertEngine(LifecycleConfig())
    inh, state = Inhibitor([DOWN_MUTES_LATENCY, CRITICAL_MUTES_WARNING]), InhibitionState()

    def emit(source: str, metric: str, score: float) -> list[tuple[str, bool, tuple[str, ...]]]:
        a = Anomaly(100.0, source, metric, score, True, "rule")
        _, alerts = engine.on_anomaly(None, a)
        out = []
        for alert in alerts:
            inh.observe(state, alert)
            marked = mark_muted(alert, 100.0, None, inh, state)
            out.append((alert.metric_name, marked.silenced, marked.inhibited_by))
        return out

    (down,) = emit("ru-1", "up", 0.99)
    assert down[:2] == ("up", False)
    up_fp = Anomaly(1, "ru-1", "up", 1, True, "rule").fingerprint
    assert emit("ru-1", "latency_ms", 0.75) == [("latency_ms", True, (up_fp,))]
    assert emit("ru-2", "latency_ms", 0.75) == [("latency_ms", False, ())]


def test_mark_muted_combines_silences_and_inhibition() -> None:
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
    marked = mark_muted(alert, 5.0, store)
    assert (marked.silenced, marked.silenced_by, marked.inhibited_by) == (True, ("s",), ())
    assert not mark_muted(alert, 11.0, store).silenced
