"""Context novelty and adaptive resonance: learn first, flag the new, stop flagging the known."""

from __future__ import annotations

import math

import numpy as np

from padit_stream.detectors import (
    ArtDetector,
    CompositeDetector,
    ContextDetector,
    CountDetector,
    Detector,
    FlatlineDetector,
)
from padit_stream.detectors.valuetype import infer_value_type, stabilise


def obs(i: int, v: float) -> dict[str, float]:
    return {"timestamp": 60.0 * i, "value": float(v)}


def run(det: Detector, values: list[float]) -> list[float]:
    out = []
    for i, v in enumerate(values):
        out.append(det.score_one(obs(i, v)))
        det.learn_one(obs(i, v))
    return out


def noisy_cycle(n: int, seed: int = 3) -> list[float]:
    rng = np.random.default_rng(seed)
    return [10.0 + 3.0 * math.sin(i / 8.0) + rng.normal(0, 0.3) for i in range(n)]


def test_context_scores_nothing_while_learning_then_flags_a_new_level_once() -> None:
    values = noisy_cycle(2000)
    values[1500:] = [30.0 + 0.1 * (i % 2) for i in range(500)]
    scores = run(ContextDetector(learning_period=300), values)
    assert max(scores[:300]) == 0.0
    assert scores[1500] > 0.5
    assert max(scores[1500:1503]) > 0.5
    # The new level is known after it has been seen: an event, not 500 alarms.
    assert sum(s > 0.5 for s in scores[1500:]) <= 3
    assert float(np.quantile(scores[600:1500], 0.99)) < 0.5


def test_context_explains_which_orders_were_new() -> None:
    d = ContextDetector(levels=4, order=3, learning_period=20)
    run(d, [float(i % 4) for i in range(100)])
    ev = d.explain_one(obs(100, 50.0)).evidence
    assert ev["new_context_orders"] == [1, 2, 3]
    assert d.explain_one(obs(100, 0.0)).evidence["new_context_orders"] == []


def test_art_learns_its_warm_up_and_flags_a_new_shape_until_it_has_a_category() -> None:
    values = noisy_cycle(1500)
    values[1200:1210] = [values[1199] + 8.0 * (-1) ** i for i in range(10)]  # oscillation
    d = ArtDetector(learning_period=300)
    scores = run(d, values)
    assert max(scores[:300]) == 0.0
    assert max(scores[1200:1210]) > 0.5
    assert float(np.quantile(scores[400:1200], 0.99)) < 0.5
    assert d.explain_one(obs(1500, 10.0)).evidence["categories"] >= 1


def test_value_types_from_the_learning_period() -> None:
    rng = np.random.default_rng(0)
    assert infer_value_type(rng.poisson(0.7, 300).astype(float).tolist()) == "count"
    assert infer_value_type((rng.poisson(5e6, 300)).astype(float).tolist()) == "continuous"
    assert infer_value_type(rng.uniform(0.0, 0.3, 300).tolist()) == "bounded"
    assert infer_value_type(rng.normal(0.0, 1.0, 300).tolist()) == "continuous"
    # Monotone beyond each type's domain: a value that breaks the type stays an extreme.
    assert stabilise(-1.0, "count") < stabilise(0.0, "count") < stabilise(1.0, "count")
    assert stabilise(0.99, "bounded") < stabilise(1.0, "bounded") < stabilise(1.5, "bounded")


def test_composite_auto_says_what_it_chose_and_sees_a_burst_on_a_sparse_counter() -> None:
    rng = np.random.default_rng(5)
    counts = rng.poisson(0.5, 3000).astype(float).tolist()
    counts[2500] = 9.0
    auto = CompositeDetector(value_type="auto")
    scores = run(auto, counts)
    assert max(scores[:300]) == 0.0
    assert auto.explain_one(obs(3000, 0.0)).evidence["value_type"] == "count"
    assert scores[2500] > 0.5


def test_count_detector_judges_counts_by_their_rate() -> None:
    rng = np.random.default_rng(2)
    sparse, busy = CountDetector(), CountDetector()
    run(sparse, rng.poisson(0.5, 2000).astype(float).tolist())
    run(busy, rng.poisson(100.0, 2000).astype(float).tolist())
    zero = obs(2000, 0.0)
    assert sparse.score_one(zero) < 0.2 < 0.5 < busy.score_one(zero)
    # The same surprise at both rates: about 5 Poisson sigmas on the Anscombe scale.
    assert abs(sparse.score_one(obs(2000, 6.0)) - busy.score_one(obs(2000, 128.0))) < 0.1


def test_flatline_flags_a_stuck_value_longer_than_any_run_before() -> None:
    rng = np.random.default_rng(4)
    # A counter that often sits at zero for up to 20 rows: its record, not a fixed length.
    values = [0.0 if (i // 20) % 3 == 0 else float(rng.integers(1, 9)) for i in range(1200)]
    values[900:960] = [5.0] * 60  # stuck
    d = FlatlineDetector()
    scores = run(d, values)
    assert max(scores[:900]) < 0.5
    first = next(i for i, s in enumerate(scores) if s > 0.5)
    assert 900 + 20 < first < 960
    assert d.explain_one(obs(1200, values[-1])).evidence["longest_run"] >= 60
