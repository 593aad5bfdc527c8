"""Every detector honours the protocol: args as attributes, [0, 1] scores, pure score_one,
pickle round-trips that score identically, value/timestamp-only observations."""

from __future__ import annotations

import inspect
import math
import pickle

import numpy as np
import pytest

from padit_stream.detectors.base import Detector, Verdict
from padit_stream.detectors.config import DETECTORS, DetectionConfig, build_detector

NAMES = sorted(n for n in DETECTORS if n != "threshold")


def series(n: int, seed: int = 1) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    t = 1.4e9 + 300.0 * np.arange(n)
    v = 20.0 + 5.0 * np.sin(2 * math.pi * t / 86400.0) + rng.normal(0.0, 1.0, n)
    v[n // 2] += 30.0  # a spike
    v[3 * n // 4 :] += 8.0  # a level shift
    return [{"timestamp": float(a), "value": float(b)} for a, b in zip(t, v, strict=True)]


def make(name: str) -> Detector:
    return build_detector(DetectionConfig.model_validate({"default": {"detector": name}}), "m")


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_constructor_args_are_attributes_of_the_same_name(name: str) -> None:
    cls = DETECTORS[name]
    det = cls()
    for pname, param in inspect.signature(cls.__init__).parameters.items():
        if pname == "self":
            continue
        assert hasattr(det, pname), pname
        if param.default is not inspect.Parameter.empty:
            assert getattr(det, pname) == param.default, pname


@pytest.mark.parametrize("name", NAMES)
def test_scores_in_unit_interval_and_score_one_does_not_learn(name: str) -> None:
    det = make(name)
    rows = series(1500)
    for x in rows[:1200]:
        s1 = det.score_one(x)
        s2 = det.score_one(x)
        assert s1 == s2
        assert 0.0 <= s1 <= 1.0
        verdict = det.explain_one(x)
        assert isinstance(verdict, Verdict)
        assert verdict.score == pytest.approx(s1)
        det.learn_one(x)


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip_scores_identically(name: str) -> None:
    det = make(name)
    rows = series(1500)
    for x in rows[:900]:
        det.score_one(x)
        det.learn_one(x)
    clone = pickle.loads(pickle.dumps(det))
    for x in rows[900:]:
        assert clone.score_one(x) == det.score_one(x)
        clone.learn_one(x)
        det.learn_one(x)


@pytest.mark.parametrize("name", NAMES)
def test_value_and_timestamp_are_enough_and_features_are_ignored(name: str) -> None:
    plain, featured = make(name), make(name)
    for x in series(700):
        y = {**x, "mean": 1.0, "std": 2.0, "p99": 3.0, "cusum": 4.0}
        assert plain.score_one(x) == featured.score_one(y)
        plain.learn_one(x)
        featured.learn_one(y)


# variance_shift measures changes of spread, seasonal_weekly needs weeks of data, flatline
# measures repeats: their own tests cover them.
@pytest.mark.parametrize(
    "name", [n for n in NAMES if n not in ("variance_shift", "seasonal_weekly", "flatline")]
)
def test_spike_scores_above_the_typical_row(name: str) -> None:
    det = make(name)
    rows = series(1500)
    scores = []
    for x in rows:
        scores.append(det.score_one(x))
        det.learn_one(x)
    spike = scores[750]
    assert spike > float(np.median(scores[400:740]))
