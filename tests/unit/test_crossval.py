"""Leave-one-category-out: splits, no leakage of the held-out category, pooled arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from padit_stream.detectors.config import DetectorSpec
from padit_stream.errors import ConfigError
from padit_stream.evaluation.crossval import (
    Corpus,
    category_of,
    choose,
    cross_validate,
    split,
)
from padit_stream.evaluation.grid import expand, label, parse_assignment, with_params
from padit_stream.evaluation.nab import PROFILES, NabDataError, NabFile, file_score_at, prepare_file

N = 400
CATEGORIES = ("alpha", "beta", "gamma")


def nab_file(name: str, windows: list[tuple[float, float]]) -> NabFile:
    return prepare_file(name, np.arange(float(N)), np.zeros(N), windows)


def corpus(seed: int, hit: float, noise: float) -> dict[str, tuple[NabFile, np.ndarray]]:
    """Two files per category, one window each; ``hit`` at the window's start, noise elsewhere."""
    rng = np.random.default_rng(seed)
    out = {}
    for c in CATEGORIES:
        for k in range(2):
            name = f"{c}/f{k}.csv"
            start = 150.0 + 50 * k
            f = nab_file(name, [(start, start + 20.0)])
            s = rng.random(N) * noise
            s[int(start)] = hit
            out[name] = (f, s)
    return out


def runs() -> dict[str, Corpus]:
    return {"A": corpus(1, hit=0.8, noise=0.5), "B": corpus(2, hit=0.6, noise=0.7)}


def test_split_partitions_by_category() -> None:
    c = corpus(0, 0.9, 0.1)
    train, test = split(c, "beta")
    assert sorted(test) == ["beta/f0.csv", "beta/f1.csv"]
    assert not set(train) & set(test)
    assert set(train) | set(test) == set(c)
    assert {category_of(n) for n in train} == {"alpha", "gamma"}


def test_category_needs_a_folder() -> None:
    with pytest.raises(NabDataError, match=r"category/file\.csv"):
        category_of("plain.csv")


@pytest.mark.parametrize("held_out", CATEGORIES)
def test_the_held_out_category_does_not_influence_its_choice(held_out: str) -> None:
    profiles = dict(PROFILES)
    before = {f.held_out: f.choices for f in cross_validate(runs(), profiles).folds}
    # Rewrite the held-out category: B becomes perfect there and A useless, and the windows
    # move. A choice that looked at it would change.
    changed = runs()
    for name in [n for n in changed["A"] if category_of(n) == held_out]:
        f = nab_file(name, [(300.0, 330.0)])
        good = np.zeros(N)
        good[300] = 1.0
        changed["B"][name] = (f, good)
        changed["A"][name] = (f, np.ones(N))
    after = cross_validate(changed, profiles)
    fold = next(f for f in after.folds if f.held_out == held_out)
    assert fold.choices == before[held_out]
    # The held-out scores did change: the data reached the scoring, not the choice.
    assert fold.scores["standard"].raw != 0.0


def test_the_choice_follows_the_training_categories() -> None:
    # Guard for the test above: the choice is sensitive to the data it may see.
    base = cross_validate(runs(), {"standard": PROFILES["standard"]})
    assert all(f.choices["standard"].config == "A" for f in base.folds)
    changed = runs()
    for name in changed["B"]:
        f, s = changed["B"][name]
        changed["B"][name] = (f, np.where(s == 0.6, 1.0, 0.0))  # B: the windows alone
        f, s = changed["A"][name]
        changed["A"][name] = (f, np.where(s == 0.8, 0.0, s))
    again = cross_validate(changed, {"standard": PROFILES["standard"]})
    assert all(f.choices["standard"].config == "B" for f in again.folds)


def test_pooled_is_every_file_at_its_fold_threshold_normalised() -> None:
    profile = PROFILES["reward_low_FP_rate"]
    r = runs()
    cv = cross_validate(r, {"p": profile})
    raw = null = perfect = 0.0
    for c in CATEGORIES:
        train = {k: split(v, c)[0] for k, v in r.items()}
        choice = choose(train, profile)
        for f, s in split(r[choice.config], c)[1].values():
            raw += file_score_at(f, s, choice.threshold, profile).score
            null -= profile.fn * f.n_windows
            perfect += profile.tp * f.n_windows
    assert cv.pooled["p"].normalised == pytest.approx(100 * (raw - null) / (perfect - null))
    assert len(cv.folds) == len(CATEGORIES)


def test_configurations_must_cover_the_same_files() -> None:
    r = runs()
    del r["B"]["alpha/f0.csv"]
    with pytest.raises(NabDataError, match="same files"):
        cross_validate(r, dict(PROFILES))


def test_one_category_is_not_enough() -> None:
    c = {n: v for n, v in corpus(0, 0.9, 0.1).items() if n.startswith("alpha/")}
    with pytest.raises(NabDataError, match="two categories"):
        cross_validate({"A": c}, dict(PROFILES))


def test_grid_assignments() -> None:
    assert parse_assignment("alarm_ratio=0.9,1.2") == ("alarm_ratio", [0.9, 1.2])
    assert parse_assignment("calibration=record,likelihood")[1] == ["record", "likelihood"]
    combos = expand([("a", [1, 2]), ("b", [True])])
    assert combos == [{"a": 1, "b": True}, {"a": 2, "b": True}]
    assert label({}) == "defaults" and expand([]) == [{}]
    spec = with_params(DetectorSpec(), {"alarm_ratio": 1.5, "range.min_periods": 10})
    assert spec.params == {"alarm_ratio": 1.5, "component_params": {"range": {"min_periods": 10}}}


@pytest.mark.parametrize("text", ["alarm_ratio", "=1,2", "x=", "x=[1]"])
def test_bad_grid_text_names_the_expected_form(text: str) -> None:
    with pytest.raises(ConfigError, match=r"PARAM=v1,v2|YAML|number"):
        parse_assignment(text)


def test_unknown_grid_parameter_is_named() -> None:
    with pytest.raises(ConfigError, match="no_such_param"):
        with_params(DetectorSpec(), {"no_such_param": 1})
