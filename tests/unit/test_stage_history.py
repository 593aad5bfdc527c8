"""The stages keep each series' history: values by the ingest stage (each sample once),
scores by the detection stage, alert intervals by the lifecycle stage."""

from __future__ import annotations

import orjson

from padit_stream.core.cache import StateCache
from padit_stream.core.clock import TimeBounds
from padit_stream.core.features import FeatureSet
from padit_stream.core.history import SCORES, VALUES, HistoryConfig, HistoryState, read_buckets
from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.detectors import Detector, EwmaDetector
from padit_stream.detectors.persist import PersistedDetector
from padit_stream.schema import DecodeLimits, encode_features, encode_metric, metric_key
from padit_stream.stages.detect import Detect
from padit_stream.stages.ingest import Ingest
from tests.unit.stream_fakes import FakeEmit, Record, TableRows

WALL = 1_800_000_000.0
T0 = WALL - 3600.0 - (WALL % 60)  # a minute boundary an hour ago
KEY = metric_key("du-1", "rtt_ms")
HISTORY = HistoryConfig(step=60.0, open_buckets=2)


def make() -> tuple[Ingest, TableRows]:
    windows = TableRows()
    history_rows = TableRows()
    config = SeriesConfig(span=300.0, max_count=1000, lateness=30.0, emit_every=60.0)
    stage = Ingest(
        StateCache(windows, lambda key, get: SeriesState.load(key, config, get)),
        FakeEmit(),
        features_topic="features",
        metrics_topic="metrics",
        partitions=4,
        bounds=TimeBounds(max_future=300.0),
        limits=DecodeLimits(),
        wall=lambda: WALL,
        history=StateCache(
            history_rows, lambda key, get: HistoryState.load(key, HISTORY, VALUES, get)
        ),
    )
    return stage, history_rows


def records(points: list[tuple[float, float]], start: int) -> list[Record]:
    return [
        Record("metrics", 0, start + i, KEY,
               encode_metric(ts, "du-1", "rtt_ms", v, labels={"cell": "7"}))
        for i, (ts, v) in enumerate(points)
    ]  # fmt: skip


def buckets(rows: TableRows) -> dict[int, tuple[float, float, float]]:
    _, found = read_buckets(KEY, HISTORY, VALUES, lambda k: rows.get(0, k))
    return {b.number - int(T0 // 60): (b.min, b.mean, b.max) for b in found}


def test_each_applied_sample_counts_once() -> None:
    stage, rows = make()
    points = [(T0 + 10 * i, float(i % 6)) for i in range(30)]  # five minutes
    stage(0, records(points[:20], start=0))
    stage(0, records(points[10:], start=10))  # the first ten again: a redelivery
    stage.history.clear()  # type: ignore[union-attr]
    got = buckets(rows)
    assert sorted(got) == [0, 1, 2, 3, 4]
    for minute in range(5):
        values = [v for ts, v in points if int((ts - T0) // 60) == minute]
        low, mean, high = got[minute]
        assert (low, high) == (min(values), max(values))
        assert abs(mean - sum(values) / len(values)) < 1e-6
    state = HistoryState.load(KEY, HISTORY, VALUES, lambda k: rows.get(0, k))
    assert state.labels == {"cell": "7"}
    assert state.last_time == points[-1][0] and state.last_wall == WALL


def test_late_sample_refused_by_the_window_is_not_in_the_history() -> None:
    stage, rows = make()
    stage(0, records([(T0 + 100, 1.0), (T0 + 10, 99.0)], start=0))  # 90 s late: refused
    assert [m for m, (_, _, high) in buckets(rows).items() if high == 99.0] == []


def test_detection_keeps_the_highest_score_per_minute_and_the_detector() -> None:
    rows, history_rows, emit = TableRows(), TableRows(), FakeEmit()
    detect = Detect(
        StateCache(rows, lambda key, get: PersistedDetector.load(key, get, EwmaDetector, replay)),
        emit,
        anomalies_topic="anomalies",
        history=StateCache(
            history_rows, lambda key, get: HistoryState.load(key, HISTORY, SCORES, get)
        ),
        wall=lambda: WALL,
    )
    values = [5.0] * 10 + [90.0] + [5.0] * 29  # every 3 s: two minutes, a jump in the first
    detect(0, [Record("features", 0, i, KEY, features(i, v)) for i, v in enumerate(values)])
    scores = [orjson.loads(r.value)["score"] for r in emit.on("anomalies")]
    state, found = read_buckets(KEY, HISTORY, SCORES, lambda k: history_rows.get(0, k))
    by_minute: dict[int, list[float]] = {}
    for i, score in enumerate(scores):
        by_minute.setdefault(int((T0 + 3 * i) // 60), []).append(score)
    assert len(by_minute) == 2
    assert {b.number: b.max for b in found} == {m: max(v) for m, v in by_minute.items()}
    assert orjson.loads(state.tag)["detector"] == EwmaDetector().name
    assert state.last_value == scores[-1]


def features(i: int, value: float) -> bytes:
    fs = FeatureSet(*([float(value)] * len(FeatureSet._fields)))
    fs = fs._replace(window_start=T0 + 3 * i, window_end=T0 + 3 * i, count=1, last=value)
    return encode_features("du-1", "rtt_ms", fs)


def replay(detector: Detector, raw: bytes) -> None:
    x = orjson.loads(raw)
    obs = {"timestamp": x["window_end"], "value": x["last"]}
    detector.explain_one(obs)
    detector.learn_one(obs)
