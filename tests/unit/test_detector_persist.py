"""Detectors kept as snapshot + inputs: rebuilt exactly, written small."""

from __future__ import annotations

import math
import pickle
import random
import struct

import orjson
import pytest

from padit_stream.detectors import Detector
from padit_stream.detectors.config import DetectionConfig, build_detector
from padit_stream.detectors.persist import SNAPSHOT_EVERY, PersistedDetector, input_key
from padit_stream.schema import FEATURES_FIELDS, decode_record, features_observation
from tests.unit.changelog import Rows

KEY = orjson.dumps(["du-1", "cpu"])
CONFIG = DetectionConfig()  # the default composite


def fresh() -> Detector:
    return build_detector(CONFIG, "cpu")


def replay(detector: Detector, raw: bytes) -> None:
    x = features_observation(decode_record(raw, FEATURES_FIELDS))
    detector.explain_one(x)
    detector.learn_one(x)


def same_from_now_on(a: Detector, b: Detector, seed: int) -> bool:
    """Both give the same scores on what comes next (pickles differ in sharing, not state)."""
    for raw in features_records(150, seed + 100)[50:]:
        x = features_observation(decode_record(raw, FEATURES_FIELDS))
        if a.explain_one(x).score != b.explain_one(x).score:
            return False
        a.learn_one(x)
        b.learn_one(x)
    return True


def features_records(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        v = 50 + 10 * math.sin(i / 20) + rng.gauss(0, 2) + (40 if rng.random() < 0.01 else 0)
        out.append(
            orjson.dumps(
                {"source_id": "du-1", "metric_name": "cpu", "window_end": 1.7e9 + 60 * i,
                 "last": v, "mean": v, "std": 2.0, "count": 30}
            )
        )  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_restarts_and_evictions_rebuild_the_same_detector(seed: int) -> None:
    rng = random.Random(seed)
    records = features_records(400, seed)
    solo = fresh()
    solo_scores = []
    for raw in records:
        x = features_observation(decode_record(raw, FEATURES_FIELDS))
        solo_scores.append(solo.explain_one(x).score)
        solo.learn_one(x)

    rows = Rows()
    state = PersistedDetector(KEY, fresh())
    scores = []
    for offset, raw in enumerate(records):
        assert not state.seen(offset)
        x = features_observation(decode_record(raw, FEATURES_FIELDS))
        scores.append(state.detector.explain_one(x).score)
        state.detector.learn_one(x)
        state.evaluated(raw, offset)
        assert state.seen(offset)
        if rng.random() < 0.2:  # end of a batch: rows written
            rows.apply(state.flush())
            roll = rng.random()
            if roll < 0.1:  # restart: the detector comes back from its rows
                state = PersistedDetector.load(KEY, rows.get, fresh, replay)
            elif roll < 0.2:  # evicted from the cache, then needed again
                rows.apply(state.checkpoint())
                state = PersistedDetector.load(KEY, rows.get, fresh, replay)
    rows.apply(state.flush())
    assert len(set(solo_scores)) > 20  # the scores carry information worth comparing
    assert scores == solo_scores
    rebuilt = PersistedDetector.load(KEY, rows.get, fresh, replay)
    assert rebuilt.applied == len(records)
    assert rebuilt.last_offset == len(records) - 1 and rebuilt.seen(len(records) - 1)
    assert same_from_now_on(rebuilt.detector, solo, seed)
    # Only the snapshot and the inputs after it remain.
    assert len(rows) == 1 + (rebuilt.applied - rebuilt.snapshot_at)
    assert rebuilt.applied - rebuilt.snapshot_at < SNAPSHOT_EVERY


def test_bytes_written_per_evaluation_are_a_fraction_of_the_detector() -> None:
    records = features_records(2_000, 7)
    state = PersistedDetector(KEY, fresh())
    rows = Rows()
    written = 0
    for i, raw in enumerate(records):
        replay(state.detector, raw)
        state.evaluated(raw)
        if i >= 1_000:
            written += rows.apply(state.flush())
    whole = len(pickle.dumps(state.detector, protocol=5))
    per_evaluation = written / 1_000
    # What rewriting the whole detector would cost, against snapshot + inputs.
    assert per_evaluation < whole / 5, (per_evaluation, whole)


def test_version_1_rows_still_load() -> None:
    detector = fresh()
    for raw in features_records(10, 3):
        replay(detector, raw)
    rows = Rows({KEY: pickle.dumps(detector, protocol=5)})
    state = PersistedDetector.load(KEY, rows.get, fresh, replay)
    assert state.applied == 0
    assert same_from_now_on(pickle.loads(pickle.dumps(state.detector)), detector, 3)
    raw = features_records(11, 3)[-1]
    replay(state.detector, raw)
    state.evaluated(raw)
    assert state.flush() == [(input_key(KEY, 0), struct.pack("<q", -1) + raw)]


def test_inputs_written_after_a_version_1_row_are_replayed_on_load() -> None:
    records = features_records(20, 4)
    detector = fresh()
    for raw in records[:10]:
        replay(detector, raw)
    rows = Rows({KEY: pickle.dumps(detector, protocol=5)})
    state = PersistedDetector.load(KEY, rows.get, fresh, replay)
    for offset, raw in enumerate(records[10:], start=10):
        replay(state.detector, raw)
        state.evaluated(raw, offset)
    rows.apply(state.flush())  # fewer than SNAPSHOT_EVERY: no snapshot yet, the v1 row stays
    again = PersistedDetector.load(KEY, rows.get, fresh, replay)
    assert again.applied == 10 and again.last_offset == 19
    assert same_from_now_on(again.detector, state.detector, 4)
