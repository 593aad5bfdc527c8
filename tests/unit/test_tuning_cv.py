"""Cross-validation cells and folds: blocks by time, windows whole, every cell tested once."""

from __future__ import annotations

import numpy as np
import pytest

from padit_stream.evaluation.nab import PROFILES, file_score_at, prepare_file
from padit_stream.tuning.cv import (
    cell_scores,
    make_folds,
    normalised,
    series_groups,
    time_blocks,
)


def _file(n: int = 400, windows: tuple[tuple[float, float], ...] = ((150.0, 170.0),)):
    return prepare_file("s.csv", np.arange(float(n)), np.zeros(n), list(windows))


def test_blocks_follow_time_and_keep_windows_whole() -> None:
    # The window straddles the middle of the counted rows (60 + 340 / 2 = 230).
    f = _file(400, ((220.0, 240.0), (300.0, 310.0)))
    blocks = time_blocks(f, 2)
    assert (blocks[: f.probation] == -1).all()
    counted = blocks[f.probation :]
    assert (np.diff(counted) >= 0).all()
    assert set(blocks[220:241].tolist()) == {0}
    assert set(blocks[300:311].tolist()) == {1}
    assert blocks[f.probation] == 0
    assert blocks[-1] == 1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_cells_add_up_to_the_file_score(seed: int, profile: str) -> None:
    rng = np.random.default_rng(seed)
    f = _file(600, ((100.0, 130.0), (300.0, 320.0), (500.0, 560.0)))
    scores = rng.random(600) ** 4
    p = PROFILES[profile]
    for n_blocks in (1, 2, 3):
        raw, windows = cell_scores(f, scores, 0.6, p, time_blocks(f, n_blocks), n_blocks)
        assert sum(raw) == pytest.approx(file_score_at(f, scores, 0.6, p).score)
        assert int(windows.sum()) == 3


def test_normalised_is_nabs_scale() -> None:
    p = PROFILES["standard"]
    assert normalised(-3.0, 3, p) == 0.0
    assert normalised(3.0, 3, p) == 100.0
    assert np.isnan(normalised(-0.5, 0, p))


def test_groups_take_some_of_each_stratum() -> None:
    strata = ["a"] * 6 + ["b"] * 3
    groups = series_groups(strata, 3, seed=4)
    for g in range(3):
        members = {strata[i] for i, gi in enumerate(groups) if gi == g}
        assert members == {"a", "b"}
    assert series_groups(strata, 3, seed=4) == groups


def test_every_cell_is_tested_once_and_never_trained_with_its_series_or_block() -> None:
    strata = ["a"] * 5 + ["b"] * 4
    folds = make_folds(strata, 3, 2, seed=1)
    assert len(folds) == 6
    tested = sum(f.test.astype(int) for f in folds)
    assert (tested == 1).all()
    for f in folds:
        test_series = f.test.any(axis=1)
        test_blocks = f.test.any(axis=0)
        assert not f.train[test_series].any()
        assert not f.train[:, test_blocks].any()
        assert f.train.any()


def test_one_series_is_cross_validated_over_time_only() -> None:
    folds = make_folds(["a"], 5, 3, seed=0)
    assert len(folds) == 3
    for f in folds:
        assert f.train.sum() == 2 and f.test.sum() == 1
        assert not (f.train & f.test).any()
