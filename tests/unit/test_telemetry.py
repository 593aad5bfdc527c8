"""The worker's metrics: counted per slice, one registry per app, read from the stream."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from padit_stream.alerting import AlertState
from padit_stream.schema import Anomaly
from padit_stream.series_export import SeriesExport
from padit_stream.telemetry import StreamTelemetry
from tests.unit.stream_fakes import Record


class _Topic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


def _stream(active: dict[int, set[bytes]] | None = None, states: Any = None) -> Any:
    names = ("metrics", "features", "anomalies", "alerts", "deadletter", "alert-events")
    topics = {n.replace("-", "_"): _Topic(f"p.{n}.v1") for n in names}
    sender = SimpleNamespace(produced={"p.features.v1": 7}, dead_letter_classes={}, stats={})
    sender.stats = {"send_retries": 0, "lost": 0}
    return SimpleNamespace(
        topics=SimpleNamespace(**topics, all=lambda: list(topics.values())),
        sender=sender,
        windows=[1, 2, 3],
        detectors=[1],
        lifecycle=SimpleNamespace(active=active or {}, states=states),
        notification=SimpleNamespace(peek=lambda: None),
        app=SimpleNamespace(),
    )


def _samples(telemetry: StreamTelemetry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = telemetry.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _records(topic: str, n: int, value: bytes = b"{}") -> list[Record]:
    return [Record(topic, 0, i, b"k", value) for i in range(n)]


def test_a_slice_is_counted_once_whatever_its_size() -> None:
    t = StreamTelemetry(_stream())
    t.on_slice("p.metrics.v1", 0, _records("p.metrics.v1", 500), time.perf_counter())
    t.on_slice("p.metrics.v1", 1, _records("p.metrics.v1", 20), time.perf_counter())
    got = _samples(t)
    assert got["padit_records_in_total", (("topic", "p.metrics.v1"),)] == 520
    assert got["padit_batch_duration_seconds_count", (("stage", "window"),)] == 2
    # Topics not read yet are there from 0 (rate() needs the series before the first record).
    assert got["padit_records_in_total", (("topic", "p.anomalies.v1"),)] == 0
    assert got["padit_outputs_total", (("topic", "p.features.v1"),)] == 7
    assert got["padit_series_held", (("state", "window"),)] == 3


def test_two_apps_in_one_process_keep_their_own_figures() -> None:
    a, b = StreamTelemetry(_stream()), StreamTelemetry(_stream())
    a.on_slice("p.features.v1", 0, _records("p.features.v1", 3), time.perf_counter())
    assert _samples(a)["padit_records_in_total", (("topic", "p.features.v1"),)] == 3
    assert _samples(b)["padit_records_in_total", (("topic", "p.features.v1"),)] == 0
    assert _samples(a)["padit_detector_evaluation_seconds_count", ()] == 1


def test_end_to_end_lag_is_wall_minus_the_newest_event_time_of_a_slice() -> None:
    t = StreamTelemetry(_stream())
    ts = time.time() - 42.0
    anomaly = Anomaly(ts, "du-1", "rtt_ms", 0.1, False, detector="d").encode()
    t.on_slice("p.anomalies.v1", 0, _records("p.anomalies.v1", 2, anomaly), time.perf_counter())
    got = _samples(t)
    assert got["padit_end_to_end_lag_seconds_count", ()] == 1
    assert 42.0 <= got["padit_end_to_end_lag_seconds_sum", ()] < 60.0
    assert got["padit_end_to_end_lag_seconds_bucket", (("le", "30.0"),)] == 0
    assert got["padit_end_to_end_lag_seconds_bucket", (("le", "60.0"),)] == 1


def test_dead_letters_by_stage_and_reason_class() -> None:
    stream = _stream()
    stream.sender.dead_letter_classes = {("decode", "invalid"): 1, ("detect", "internal"): 4}
    got = _samples(StreamTelemetry(stream))
    assert got["padit_dead_letters_total", (("reason", "invalid"), ("stage", "decode"))] == 1
    assert got["padit_dead_letters_total", (("reason", "internal"), ("stage", "detect"))] == 4
    assert got["padit_dead_letters_total", (("reason", "late"), ("stage", "window"))] == 0


def test_alerts_by_state_and_severity_from_the_lifecycle_rows() -> None:
    def state(phase: Any, severity: Any) -> AlertState:
        return AlertState("f", "du-1", "rtt_ms", "d", phase=phase, severity=severity)

    rows = {
        b"f1": state("firing", "critical"),
        b"f2": state("firing", "critical"),
        b"f3": state("pending", "info"),
    }
    states = SimpleNamespace(read=lambda partition, key: rows[key])
    t = StreamTelemetry(_stream({0: {b"f1", b"f3"}, 2: {b"f2"}}, states))
    got = _samples(t)
    assert got["padit_alerts", (("severity", "critical"), ("state", "firing"))] == 2
    assert got["padit_alerts", (("severity", "info"), ("state", "pending"))] == 1


def test_rebalances_and_recovery_time() -> None:
    t = StreamTelemetry(_stream())
    t.on_assigned()
    t.on_recovered()
    t.on_recovered()  # a second completion without an assignment is not timed
    got = _samples(t)
    assert got["padit_rebalances_total", ()] == 1
    assert got["padit_state_recovery_seconds_count", ()] == 1
    build = [k for k in got if k[0] == "padit_build_info"]
    assert len(build) == 1 and dict(build[0][1])["version"] == "0.1.0"


@pytest.mark.parametrize("cap", [1, 3])
def test_series_export_is_capped(cap: int) -> None:
    export = SeriesExport("p.features.v1", cap, lambda p, k: None)
    t = StreamTelemetry(_stream(), export)
    features = [
        Record("p.features.v1", 0, i, f"k{i}".encode(),
               f'{{"source_id":"du-{i}","metric_name":"m","last":{i}}}'.encode())
        for i in range(3)
    ]  # fmt: skip
    t.on_slice("p.features.v1", 0, features, time.perf_counter())
    got = _samples(t)
    values = {k: v for k, v in got.items() if k[0] == "padit_series_value"}
    assert len(values) == cap
    assert got["padit_series_export_dropped_total", ()] == 3 - cap
