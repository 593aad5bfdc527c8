"""Alert lifecycle: pending → firing → resolved, hysteresis, escalation, one id per incident."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from padit_stream.alerting.config import LifecycleConfig
from padit_stream.alerting.lifecycle import AlertEngine, AlertState
from padit_stream.schema import Alert, Anomaly, fingerprint


def anomaly(
    ts: float,
    score: float,
    *,
    is_anomaly: bool | None = None,
    source: str = "ru-1",
    metric: str = "rtt_ms",
    labels: dict[str, str] | None = None,
) -> Anomaly:
    return Anomaly(
        timestamp=ts,
        source_id=source,
        metric_name=metric,
        score=score,
        is_anomaly=score >= 0.5 if is_anomaly is None else is_anomaly,
        detector="zscore",
        evidence={"z": score * 10},
        labels=labels or {"site": "lab"},
    )


def run(engine: AlertEngine, scores: list[float], step: float = 10.0) -> list[Alert]:
    state: AlertState | None = None
    out: list[Alert] = []
    for i, score in enumerate(scores):
        state, alerts = engine.on_anomaly(state, anomaly(1000.0 + i * step, score))
        out.extend(alerts)
    return out


def test_defaults_fire_on_first_strong_anomaly() -> None:
    engine = AlertEngine()
    state, alerts = engine.on_anomaly(None, anomaly(1000.0, 0.75))
    assert [(a.status, a.severity) for a in alerts] == [("firing", "warning")]
    alert = alerts[0]
    assert alert.starts_at == 1000.0 and alert.ends_at is None
    assert alert.fingerprint == fingerprint("ru-1", "rtt_ms", "zscore", {"site": "lab"})
    assert alert.labels["severity"] == "warning"
    assert alert.labels["source_id"] == "ru-1" and alert.labels["site"] == "lab"
    assert alert.evidence == {"z": 7.5}
    assert state.phase == "firing"


def test_five_anomalous_metrics_give_one_alert_not_five() -> None:
    alerts = run(AlertEngine(), [0.8, 0.85, 0.8, 0.82, 0.8])
    assert len(alerts) == 1
    assert alerts[0].status == "firing"


def test_weak_or_unflagged_scores_do_not_fire() -> None:
    engine = AlertEngine()
    _, alerts = engine.on_anomaly(None, anomaly(1.0, 0.65))
    assert alerts == []
    _, alerts = engine.on_anomaly(None, anomaly(1.0, 0.95, is_anomaly=False))
    assert alerts == []


def test_severity_thresholds() -> None:
    engine = AlertEngine(LifecycleConfig(fire_threshold=0.3, clear_threshold=0.2))
    got = [
        engine.on_anomaly(None, anomaly(1.0, s, is_anomaly=True))[1][0].severity
        for s in (0.4, 0.7, 0.9)
    ]
    assert got == ["info", "warning", "critical"]


def test_for_evaluations_holds_and_a_clear_resets() -> None:
    engine = AlertEngine(LifecycleConfig(for_evaluations=3))
    # Two hot, one clear (resets), then three hot: fires on the third of those.
    state = None
    statuses = []
    for i, score in enumerate([0.8, 0.8, 0.1, 0.8, 0.8, 0.8]):
        state, alerts = engine.on_anomaly(state, anomaly(i * 10.0, score))
        statuses.append([a.status for a in alerts])
    assert statuses == [[], [], [], [], [], ["firing"]]


def test_for_evaluations_ignores_in_band_scores() -> None:
    engine = AlertEngine(LifecycleConfig(for_evaluations=2))
    alerts = run(engine, [0.8, 0.6, 0.8])
    assert [a.timestamp for a in alerts] == [1020.0]


def test_for_duration() -> None:
    engine = AlertEngine(LifecycleConfig(for_duration="1m"))
    alerts = run(engine, [0.8] * 8, step=10.0)
    assert [a.timestamp for a in alerts] == [1060.0]
    assert alerts[0].starts_at == 1060.0


def test_resolves_after_keep_firing_for_and_keeps_the_id() -> None:
    engine = AlertEngine(LifecycleConfig(keep_firing_for=30))
    alerts = run(engine, [0.8, 0.1, 0.1, 0.1, 0.1], step=10.0)
    assert [a.status for a in alerts] == ["firing", "resolved"]
    firing, resolved = alerts
    assert resolved.alert_id == firing.alert_id
    # Clear since 1010; 30 s later (1040) it resolves.
    assert resolved.ends_at == 1040.0
    assert resolved.starts_at == firing.starts_at


def test_new_incident_gets_a_new_id() -> None:
    engine = AlertEngine(LifecycleConfig(keep_firing_for=0))
    alerts = run(engine, [0.8, 0.1, 0.8, 0.1])
    assert [a.status for a in alerts] == ["firing", "resolved", "firing", "resolved"]
    assert alerts[0].alert_id == alerts[1].alert_id
    assert alerts[2].alert_id == alerts[3].alert_id
    assert alerts[0].alert_id != alerts[2].alert_id
    assert alerts[0].fingerprint == alerts[2].fingerprint


def test_flapping_score_is_one_incident() -> None:
    # A score hovering at the threshold, and one swinging hard every 10 s.
    hovering = [0.71, 0.69, 0.72, 0.68, 0.7, 0.66, 0.73, 0.69] * 5
    swinging = [0.85, 0.2] * 10
    engine = AlertEngine(LifecycleConfig(keep_firing_for=60))
    for scores in (hovering, swinging):
        alerts = run(engine, scores, step=10.0)
        assert [a.status for a in alerts] == ["firing"], scores


def test_without_hysteresis_the_same_scores_flap() -> None:
    # The control for the test above: no band and no hold, so each dip resolves.
    engine = AlertEngine(LifecycleConfig(clear_threshold=0.7, keep_firing_for=0))
    alerts = run(engine, [0.71, 0.69, 0.72, 0.68] * 3)
    assert len({a.alert_id for a in alerts}) == 6


def test_in_band_score_restarts_the_clear_period() -> None:
    engine = AlertEngine(LifecycleConfig(keep_firing_for=25))
    # clear at 1010, 1020; in band at 1030; clear 1040, 1050: only 10 s clear → firing.
    alerts = run(engine, [0.8, 0.1, 0.1, 0.6, 0.1, 0.1])
    assert [a.status for a in alerts] == ["firing"]


def test_escalates_while_firing_with_the_same_id() -> None:
    engine = AlertEngine()
    alerts = run(engine, [0.75, 0.8, 0.95, 0.75])
    assert [(a.status, a.severity) for a in alerts] == [
        ("firing", "warning"),
        ("firing", "critical"),
    ]
    assert alerts[0].alert_id == alerts[1].alert_id
    assert alerts[1].peak_score == 0.95


def test_follows_the_score_down_when_not_escalate_only() -> None:
    engine = AlertEngine(LifecycleConfig(escalate_only=False))
    alerts = run(engine, [0.95, 0.75])
    assert [a.severity for a in alerts] == ["critical", "warning"]


def test_severity_after_a_hold_is_the_worst_seen() -> None:
    engine = AlertEngine(LifecycleConfig(for_evaluations=2))
    alerts = run(engine, [0.95, 0.75])
    assert [a.severity for a in alerts] == ["critical"]


def test_late_evaluation_changes_nothing() -> None:
    engine = AlertEngine(LifecycleConfig(keep_firing_for=0))
    state, _ = engine.on_anomaly(None, anomaly(100.0, 0.8))
    state, alerts = engine.on_anomaly(state, anomaly(50.0, 0.1))
    assert alerts == [] and state.phase == "firing"


def test_tick_resolves_a_stale_series() -> None:
    engine = AlertEngine(LifecycleConfig(stale_after=600, keep_firing_for=60))
    state, _ = engine.on_anomaly(None, anomaly(100.0, 0.8))
    state, alerts = engine.on_tick(state, 650.0)
    assert alerts == []
    state, alerts = engine.on_tick(state, 700.0)
    assert [(a.status, a.ends_at) for a in alerts] == [("resolved", 700.0)]
    assert state.phase == "inactive"


def test_tick_finishes_a_clear_period() -> None:
    engine = AlertEngine(LifecycleConfig(keep_firing_for=60))
    state, _ = engine.on_anomaly(None, anomaly(100.0, 0.8))
    state, _ = engine.on_anomaly(state, anomaly(110.0, 0.1))
    state, alerts = engine.on_tick(state, 169.0)
    assert alerts == []
    state, alerts = engine.on_tick(state, 175.0)
    assert [(a.status, a.ends_at) for a in alerts] == [("resolved", 170.0)]


def test_tick_drops_a_stale_pending_series() -> None:
    engine = AlertEngine(LifecycleConfig(for_evaluations=3, stale_after=60))
    state, _ = engine.on_anomaly(None, anomaly(100.0, 0.8))
    state, _ = engine.on_tick(state, 200.0)
    assert state.phase == "inactive"
    state, alerts = engine.on_anomaly(state, anomaly(210.0, 0.8))
    assert alerts == [] and state.hot_count == 1


def test_state_survives_encode_and_pickle() -> None:
    engine = AlertEngine(LifecycleConfig(keep_firing_for=20))
    state, first = engine.on_anomaly(None, anomaly(100.0, 0.8))
    state, _ = engine.on_anomaly(state, anomaly(110.0, 0.1))
    for restored in (AlertState.decode(state.encode()), pickle.loads(pickle.dumps(state))):
        assert restored == state
        _, alerts = engine.on_anomaly(restored, anomaly(130.0, 0.1))
        assert [(a.status, a.alert_id) for a in alerts] == [("resolved", first[0].alert_id)]
    fresh = engine.new_state(anomaly(1.0, 0.1))
    assert AlertState.decode(fresh.encode()) == fresh


def test_replay_gives_the_same_ids() -> None:
    scores = [0.8, 0.1, 0.1, 0.9, 0.95, 0.1, 0.1, 0.1]
    cfg = LifecycleConfig(keep_firing_for=10)
    first = run(AlertEngine(cfg), scores)
    second = run(AlertEngine(cfg), scores)
    assert [a.to_dict() for a in first] == [a.to_dict() for a in second]


def test_alert_round_trips_through_dict() -> None:
    (alert,) = run(AlertEngine(), [0.9])
    assert Alert.from_dict(alert.to_dict()) == alert


def test_fingerprint_depends_on_series_not_label_order() -> None:
    a = fingerprint("s", "m", "d", {"x": "1", "y": "2"})
    assert a == fingerprint("s", "m", "d", {"y": "2", "x": "1"})
    assert a != fingerprint("s", "m", "other", {"x": "1", "y": "2"})
    assert a != fingerprint("s", "m", "d", {"x": "1", "y": "3"})
    # Separators inside values cannot make two series collide.
    assert fingerprint("a\0b", "m", "d", {}) != fingerprint("a", "b\0m", "d", {})


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60),
    for_evaluations=st.integers(1, 3),
    keep=st.sampled_from([0.0, 15.0, 40.0]),
)
def test_records_form_well_nested_incidents(
    scores: list[float], for_evaluations: int, keep: float
) -> None:
    engine = AlertEngine(LifecycleConfig(for_evaluations=for_evaluations, keep_firing_for=keep))
    alerts = run(engine, scores)
    open_id: str | None = None
    seen_ids: set[str] = set()
    for alert in alerts:
        if alert.status == "firing":
            if open_id is None:
                assert alert.alert_id not in seen_ids
                open_id = alert.alert_id
                seen_ids.add(open_id)
            else:
                assert alert.alert_id == open_id
        else:
            assert alert.alert_id == open_id
            open_id = None
    # An incident needs a clear score to end, so incidents never outnumber clear runs + 1.
    clear_runs = sum(
        1 for i, s in enumerate(scores) if s < 0.5 and (i == 0 or scores[i - 1] >= 0.5)
    )
    assert len(seen_ids) <= clear_runs + 1
