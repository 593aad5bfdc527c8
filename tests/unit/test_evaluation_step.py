"""One evaluation step: the detection stage, the replay on load and the backtest score a series
identically, row for row."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from padit_stream.core.cache import StateCache
from padit_stream.core.features import FeatureSet
from padit_stream.detectors import Detector, Verdict, evaluate
from padit_stream.detectors.config import DetectionConfig, build_detector
from padit_stream.detectors.persist import PersistedDetector
from padit_stream.evaluation.backtest import run_series
from padit_stream.schema import encode_features, metric_key
from padit_stream.stages.detect import Detect
from padit_stream.stream import _replay
from tests.unit.stream_fakes import FakeEmit, Record, TableRows

KEY = metric_key("du-1", "latency_ms")


def series(n: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(7)
    t = 1.5e9 + 300.0 * np.arange(n)
    v = 40.0 + 6.0 * np.sin(2 * math.pi * t / 86400.0) + rng.normal(0.0, 1.0, n)
    v[n // 2] += 40.0
    v[3 * n // 4 :] += 12.0
    return t.tolist(), v.tolist()


def features_record(i: int, t: float, v: float) -> Record:
    # The window features differ from the value, as in the stream; detectors ignore them.
    fs = FeatureSet(*([v * 0.5 + 1.0] * len(FeatureSet._fields)))
    fs = fs._replace(window_start=t - 60.0, window_end=t, count=3, last=v)
    return Record("features", 0, i, KEY, encode_features("du-1", "latency_ms", fs))


def stage_scores(
    detector: str, timestamps: list[float], values: list[float], restart_at: int | None
) -> list[float]:
    config = DetectionConfig.model_validate({"default": {"detector": detector}})
    emit = FakeEmit()
    cache: StateCache[TableRows, PersistedDetector[Detector]] = StateCache(
        TableRows(),
        lambda key, get: PersistedDetector.load(
            key, get, lambda: build_detector(config, "latency_ms"), _replay
        ),
    )
    stage = Detect(cache, emit, anomalies_topic="anomalies")
    records = [
        features_record(i, t, v) for i, (t, v) in enumerate(zip(timestamps, values, strict=True))
    ]
    cut = len(records) if restart_at is None else restart_at
    for start in range(0, cut, 50):
        stage(0, records[start : min(start + 50, cut)])
    if restart_at is not None:
        cache.clear()  # the next slice loads the detector back: snapshot, then replayed inputs
        for start in range(cut, len(records), 50):
            stage(0, records[start : start + 50])
    return [orjson.loads(r.value)["score"] for r in emit.on("anomalies")]


@pytest.mark.parametrize("detector", ["composite", "robust_z", "level_shift"])
@pytest.mark.parametrize("restart_at", [None, 1234])
def test_stage_and_backtest_give_identical_scores(detector: str, restart_at: int | None) -> None:
    timestamps, values = series(2000)
    config = DetectionConfig.model_validate({"default": {"detector": detector}})
    expected = run_series(build_detector(config, "latency_ms"), timestamps, values)
    got = stage_scores(detector, timestamps, values, restart_at)
    assert len(got) == len(expected)
    assert np.array_equal(np.array(got), expected), np.flatnonzero(np.array(got) != expected)[:5]
    # The anomalies stand out: the comparison is not one of zeros.
    assert float(np.ptp(expected)) > 0.3


def test_evaluate_scores_before_learning() -> None:
    class Counter(Detector):
        name = "counter"

        def __init__(self) -> None:
            self.seen = 0

        def learn_one(self, x: dict[str, float]) -> None:
            self.seen += 1

        def score_one(self, x: dict[str, float]) -> float:
            return min(1.0, self.seen / 10)

        def explain_one(self, x: dict[str, float]) -> Verdict:
            return Verdict(self.score_one(x), {"seen": self.seen})

    d = Counter()
    verdicts = [evaluate(d, {"timestamp": float(i), "value": 1.0}) for i in range(3)]
    assert [v.evidence["seen"] for v in verdicts] == [0, 1, 2]
    assert [v.score for v in verdicts] == [0.0, 0.1, 0.2]
    assert d.seen == 3
