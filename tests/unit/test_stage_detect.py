"""The detection stage without Kafka: decision and confidence, persistence, containment."""

from __future__ import annotations

import orjson
import pytest

from padit_stream.core.cache import StateCache
from padit_stream.core.features import FeatureSet
from padit_stream.detectors import Detector, EwmaDetector
from padit_stream.detectors.persist import PersistedDetector
from padit_stream.schema import encode_features, metric_key
from padit_stream.stages.detect import Detect, decide
from tests.unit.stream_fakes import FakeEmit, Record, TableRows

KEY = metric_key("du-1", "rtt_ms")


def features(i: int, value: float) -> bytes:
    fs = FeatureSet(*([float(value)] * len(FeatureSet._fields)))
    fs = fs._replace(window_start=1000.0 + i, window_end=1000.0 + i, count=1, last=value)
    return encode_features("du-1", "rtt_ms", fs)


def replay(detector: Detector, raw: bytes) -> None:
    x = orjson.loads(raw)
    obs = {"timestamp": x["window_end"], "value": x["last"]}
    detector.explain_one(obs)
    detector.learn_one(obs)


def make(max_items: int | None = None) -> tuple[Detect, TableRows, FakeEmit]:
    rows = TableRows()
    emit = FakeEmit()
    cache: StateCache[TableRows, PersistedDetector[Detector]] = StateCache(
        rows, lambda key, get: PersistedDetector.load(key, get, EwmaDetector, replay),
        max_items=max_items,
    )  # fmt: skip
    return Detect(cache, emit, anomalies_topic="anomalies", threshold=0.5), rows, emit


def batch(values: list[float], start: int = 0, key: bytes = KEY) -> list[Record]:
    return [
        Record("features", 0, start + i, key, features(start + i, v)) for i, v in enumerate(values)
    ]


@pytest.mark.parametrize(
    ("score", "threshold", "expected"),
    [(0.9, 0.5, (True, 0.8)), (0.5, 0.5, (False, 0.0)), (0.0, 0.5, (False, 1.0)),
     (0.95, 0.9, (True, 0.05 / 0.9)), (0.1, 0.2, (False, 0.125))],
)  # fmt: skip
def test_decision_and_confidence(
    score: float, threshold: float, expected: tuple[bool, float]
) -> None:
    is_anomaly, confidence = decide(score, threshold)
    assert is_anomaly == expected[0]
    assert confidence == pytest.approx(expected[1])


def test_every_evaluation_is_published_and_the_spike_flagged() -> None:
    stage, _, emit = make()
    stage(0, batch([1.0] * 40 + [500.0]))
    out = [orjson.loads(r.value) for r in emit.on("anomalies")]
    assert len(out) == 41
    assert out[-1]["is_anomaly"] and not any(o["is_anomaly"] for o in out[:-1])
    assert out[-1]["detector"] == "ewma" and out[-1]["timestamp"] == 1040.0


def test_redelivered_features_are_not_learned_twice() -> None:
    stage, _, emit = make()
    stage(0, batch([1.0, 2.0, 3.0]))
    stage.detectors.clear()
    stage(0, batch([1.0, 2.0, 3.0]))
    assert len(emit.on("anomalies")) == 3
    assert stage.detectors.get(0, KEY).applied == 3


def test_detectors_leaving_the_cache_are_checkpointed() -> None:
    stage, rows, _ = make(max_items=1)
    stage(0, batch([1.0, 2.0]))
    other = metric_key("du-2", "rtt_ms")
    stage(0, batch([1.0], start=10, key=other))  # evicts du-1
    stored = rows.parts[0]
    # du-1 is a snapshot alone now: reading it back replays nothing.
    assert [k for k in stored if k.startswith(KEY)] == [KEY]
    assert PersistedDetector.load(KEY, stored.get, EwmaDetector, replay).applied == 2


def test_a_bug_on_one_record_costs_that_record_only(monkeypatch: pytest.MonkeyPatch) -> None:
    stage, _, emit = make()
    original = EwmaDetector.learn_one

    def learn_one(self: EwmaDetector, x: dict[str, float]) -> None:
        if x["value"] == 13.0:
            raise ValueError("boom")
        original(self, x)

    monkeypatch.setattr(EwmaDetector, "learn_one", learn_one)
    stage(0, batch([1.0, 2.0, 13.0, 3.0]))
    assert [r.startswith("internal error: ValueError: boom") for r in emit.reasons()] == [True]
    assert len(emit.on("anomalies")) == 3
    monkeypatch.setattr(EwmaDetector, "learn_one", original)
    stage.detectors.clear()
    # Rebuilt from its rows and the slice: three evaluations, the failed one not among them.
    assert stage.detectors.get(0, KEY).applied == 3


def test_undecodable_features_are_dead_lettered() -> None:
    stage, _, emit = make()
    stage(0, [Record("features", 0, 0, KEY, b"{}"), *batch([1.0], start=1)])
    assert emit.reasons() == ["missing field(s) source_id, metric_name, window_end, last"]
    assert len(emit.on("anomalies")) == 1
