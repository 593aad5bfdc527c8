"""The alert lifecycle stage without Kafka: persistence, stale resolution after a restart."""

from __future__ import annotations

import orjson

from padit_stream.alerting import AlertEngine, AlertState
from padit_stream.alerting.config import LifecycleConfig
from padit_stream.core.cache import StateCache
from padit_stream.core.clock import EventClocks, TimeBounds
from padit_stream.schema import metric_key
from padit_stream.stages.alert import AlertLifecycle, load_alert_state
from tests.unit.stream_fakes import FakeEmit, Record, TableRows

WALL = 1_800_000_000.0
T0 = WALL - 86400


def make(rows: TableRows) -> tuple[AlertLifecycle, FakeEmit]:
    emit = FakeEmit()
    states: StateCache[TableRows, AlertState | None] = StateCache(rows, load_alert_state)
    config = LifecycleConfig(keep_firing_for=300.0, stale_after=900.0)
    stage = AlertLifecycle(
        states, AlertEngine(config), emit, events_topic="events",
        clocks=EventClocks(TimeBounds(max_future=300.0)), wall=lambda: WALL,
    )  # fmt: skip
    return stage, emit


def anomaly(source: str, ts: float, score: float, offset: int, partition: int = 0) -> Record:
    value = orjson.dumps({
        "timestamp": ts, "source_id": source, "metric_name": "rtt_ms", "score": score,
        "is_anomaly": score > 0.5, "confidence": 1.0, "evidence": {}, "detector": "z",
    })  # fmt: skip
    return Record("anomalies", partition, offset, metric_key(source, "rtt_ms"), value)


def statuses(emit: FakeEmit) -> list[tuple[str, str]]:
    return [(d["source_id"], d["status"]) for d in (orjson.loads(r.value) for r in emit.records)]


def test_a_quiet_series_is_not_persisted() -> None:
    rows = TableRows()
    stage, emit = make(rows)
    stage(0, [anomaly("du-1", T0 + i, 0.1, i) for i in range(5)])
    assert rows.parts == {} and emit.records == []


def test_an_alert_firing_before_a_restart_is_resolved_when_its_series_went_quiet() -> None:
    rows = TableRows()
    stage, emit = make(rows)
    stage(0, [anomaly("du-1", T0, 0.95, 0)])
    stage.tick([0])
    assert statuses(emit) == [("du-1", "firing")]
    # The worker restarts (or another takes the partition): nothing decoded, only rows.
    stage, emit = make(rows)
    # Other series of the same partition move its event time past stale_after.
    stage(0, [anomaly("du-2", T0 + 60 * i, 0.1, 10 + i) for i in range(20)])
    stage.tick([0])
    assert statuses(emit) == [("du-1", "resolved")]
    stage.tick([0])  # resolved once
    assert statuses(emit) == [("du-1", "resolved")]


def test_another_partitions_clock_does_not_resolve_an_alert() -> None:
    rows = TableRows()
    stage, emit = make(rows)
    stage(0, [anomaly("du-1", T0, 0.95, 0)])
    stage(1, [anomaly("du-2", T0 + 60 * i, 0.1, i, partition=1) for i in range(20)])
    stage.tick([0, 1])
    assert statuses(emit) == [("du-1", "firing")]


def test_a_wrong_clock_does_not_resolve_alerts() -> None:
    rows = TableRows()
    stage, emit = make(rows)
    stage(0, [anomaly("du-1", T0, 0.95, 0), anomaly("du-2", WALL + 30 * 365 * 86400, 0.1, 1)])
    stage.tick([0])
    assert statuses(emit) == [("du-1", "firing")]
    assert stage.clocks.now(0) == T0
