"""padit tune end to end on a tiny synthetic set: repeatable, and its fragment loads back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from padit_stream.detectors.config import DetectionConfig, build_detector, load_detection_config
from padit_stream.evaluation.nab import PROFILES
from padit_stream.tuning.history import Selector, Series, TuneError
from padit_stream.tuning.run import TuneRequest, split_holdout, tune
from padit_stream.tuning.search import families
from padit_stream.tuning.select import bootstrap

STEP = 300.0


def _series(k: int, stratum: str) -> tuple[Series, list[tuple[float, float]]]:
    """Noise with a level shift and a spike, each inside a labelled window."""
    rng = np.random.default_rng(100 + k)
    n = 700
    t = 1.6e9 + STEP * np.arange(n)
    v = 10.0 + rng.normal(0.0, 1.0, n)
    shift_at, spike_at = 300 + 20 * k, 560 - 10 * k
    v[shift_at : shift_at + 40] += 8.0
    v[spike_at] += 25.0
    windows = [
        (t[shift_at - 10], t[shift_at + 10]),
        (t[spike_at - 10], t[spike_at + 10]),
    ]
    name = f"{stratum}/m{k}.csv"
    return Series(name, stratum, f"m{k}", t, v, {"category": stratum}, stratum), windows


def _request(seed: int, processes: int = 1, **kw: object) -> TuneRequest:
    pairs = [_series(k, "a" if k < 3 else "b") for k in range(5)]
    params = {
        "seed": seed,
        "trials": 6,
        "family_names": ["robust_z", "level_shift", "cusum"],
        "folds": 2,
        "processes": processes,
    } | kw
    return TuneRequest(
        series=[s for s, _ in pairs],
        windows={s.name: w for s, w in pairs},
        base=DetectionConfig.model_validate({"default": {"detector": "ewma"}}),
        selector=Selector.parse(metrics=["m*"]),
        profile=PROFILES["standard"],
        threshold=0.5,
        **params,  # type: ignore[arg-type]
    )


def test_same_seed_same_result_whatever_the_processes() -> None:
    first = tune(_request(seed=3))
    again = tune(_request(seed=3))
    pooled = tune(_request(seed=3, processes=2))
    assert first.figures() == again.figures() == pooled.figures()
    assert first.fragment == again.fragment == pooled.fragment
    other = tune(_request(seed=4))
    assert [t[1] for t in other.figures()["trials"]] != [t[1] for t in first.figures()["trials"]]


def test_fragment_loads_back_as_the_chosen_detector(tmp_path: Path) -> None:
    result = tune(_request(seed=1))
    path = tmp_path / "detection.yaml"
    path.write_text(result.fragment)
    cfg = load_detection_config(path)
    assert sorted(cfg.metrics) == [f"m{k}" for k in range(5)]
    chosen = next(
        t for t in result.trials if t.candidate and t.candidate.describe() == result.chosen
    )
    assert chosen.candidate is not None
    for spec in cfg.metrics.values():
        assert spec == chosen.candidate.spec()
    assert type(build_detector(cfg, "m0")).name == chosen.candidate.detector
    # Choosing is taking the best of the pool, the current configuration included.
    assert result.in_sample[1].value >= result.in_sample[0].value
    assert max(t.objective for t in result.trials) == pytest.approx(result.in_sample[1].value)


def test_holdout_is_reported_and_kept_from_the_search() -> None:
    result = tune(_request(seed=2, holdout=0.4))
    parts = {r.name: r.part for r in result.rows}
    held = sorted(n for n, p in parts.items() if p == "holdout")
    assert len(held) == 2 and result.holdout is not None
    # Held-out series are not among the cells the trials were scored on.
    assert result.trials[0].table.raw.shape[0] == 3


def test_split_holdout_takes_a_share_of_each_stratum() -> None:
    series = [_series(k, "a" if k < 4 else "b")[0] for k in range(6)]
    keep, held = split_holdout(series, 0.5, seed=9)
    assert sorted(s.stratum for s in held) == ["a", "a", "b"]
    assert {s.name for s in keep} | {s.name for s in held} == {s.name for s in series}
    with pytest.raises(TuneError, match="holdout"):
        split_holdout(series, 1.0, seed=9)


def test_no_labels_and_unknown_families_are_refused() -> None:
    with pytest.raises(TuneError, match="no labelled series"):
        tune(dataclasses.replace(_request(seed=0), windows={}))
    with pytest.raises(TuneError, match="threshold"):
        families(["threshold"])
    assert "threshold" not in families()


def test_bootstrap_of_equal_configs_is_a_zero_gain() -> None:
    raw = np.array([[0.5, -1.0], [0.9, -0.2], [-1.0, 0.3]])
    windows = np.array([[1, 1], [1, 1], [1, 2]])
    before, after, gain = bootstrap(raw, raw, windows, PROFILES["standard"], seed=0)
    assert before.value == after.value
    assert gain.low == gain.high == gain.value == 0.0
    assert before.low <= before.value <= before.high
