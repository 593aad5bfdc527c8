"""The NAB scorer on small hand-built cases.

Expected values are derived by hand from the rules in ``shared/nab/README.md`` (written out
with ``math`` below, never taken from the scorer): the scaled sigmoid
``2 / (1 + exp(5y)) - 1``, a true positive normalised by its value at ``y = -1``, the
probationary period, one detection per window, false positives weighted by their distance
after the previous window, and normalisation ``100 (raw - null) / (perfect - null)``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from padit_stream.evaluation.nab import (
    PROFILES,
    NabFile,
    prepare_file,
    probationary_length,
    scaled_sigmoid,
    score_corpus,
)

STD = PROFILES["standard"]
LOW_FP = PROFILES["reward_low_FP_rate"]
LOW_FN = PROFILES["reward_low_FN_rate"]

N = 100  # rows per file: probation floor(0.15 * 100) = 15 rows
WINDOW = (40.0, 49.0)  # rows 40..49 (timestamps are row numbers): width 10


def sig(y: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


MAX_TP = sig(-1.0)


def one_file(
    detect_rows: list[int],
    windows: list[tuple[float, float]] | None = None,
    name: str = "a/f.csv",
    n: int = N,
) -> tuple[NabFile, npt.NDArray[np.float64]]:
    t = np.arange(float(n))
    f = prepare_file(name, t, np.zeros(n), [WINDOW] if windows is None else windows)
    s = np.zeros(n)
    s[detect_rows] = 1.0
    return f, s


def normalised(raw: float, n_windows: int, fn_weight: float = 1.0) -> float:
    null = -fn_weight * n_windows
    perfect = 1.0 * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def test_probationary_length_is_15_percent_capped_at_750_rows() -> None:
    assert probationary_length(100) == 15
    assert probationary_length(4032) == 604  # floor(604.8)
    assert probationary_length(22695) == 750


def test_scaled_sigmoid_matches_the_formula_and_is_minus_one_far_after() -> None:
    for y in (-1.0, -0.5, 0.0, 0.3, 2.9):
        assert scaled_sigmoid(y) == pytest.approx(sig(y), abs=1e-12)
    assert scaled_sigmoid(3.5) == -1.0


def test_detection_on_the_window_start_is_perfect() -> None:
    cs = score_corpus({"f": one_file([40])}, STD)
    assert cs.raw == pytest.approx(1.0)
    assert cs.normalised == pytest.approx(100.0)


def test_detection_on_the_last_row_of_the_window_is_worth_little() -> None:
    # Row 49 of a 10-row window ending at 49: y = -(49 - 49 + 1) / 10 = -0.1.
    expected_raw = sig(-0.1) / MAX_TP
    cs = score_corpus({"f": one_file([49])}, STD)
    assert cs.raw == pytest.approx(expected_raw)
    assert cs.normalised == pytest.approx(normalised(expected_raw, 1))


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    # Rows 44 and 47: only 44 counts, y = -(49 - 44 + 1) / 10 = -0.6.
    cs = score_corpus({"f": one_file([44, 47])}, STD)
    assert cs.raw == pytest.approx(sig(-0.6) / MAX_TP)
    assert cs.files[0].tp == 1 and cs.files[0].fp == 0


def test_missed_window_costs_the_false_negative_weight() -> None:
    assert score_corpus({"f": one_file([])}, STD).raw == pytest.approx(-1.0)
    cs = score_corpus({"f": one_file([])}, LOW_FN)
    assert cs.raw == pytest.approx(-2.0)
    assert cs.normalised == pytest.approx(0.0)


def test_false_positive_before_any_window_costs_the_full_weight() -> None:
    # Row 20: after probation, no window before it.
    for profile in (STD, LOW_FP):
        cs = score_corpus({"f": one_file([20, 40])}, profile)
        assert cs.raw == pytest.approx(1.0 - profile.fp)
        assert cs.files[0].fp == 1


def test_false_positive_just_after_a_window_costs_less() -> None:
    # Row 54: y = (54 - 49) / (10 - 1) past the window's end.
    y = 5.0 / 9.0
    cs = score_corpus({"f": one_file([40, 54])}, STD)
    assert cs.raw == pytest.approx(1.0 + 0.11 * sig(y))
    assert -0.11 < 0.11 * sig(y) < 0.0


def test_false_positive_far_after_a_window_costs_the_full_weight() -> None:
    # Row 90: y = 41 / 9 > 3.
    cs = score_corpus({"f": one_file([40, 90])}, STD)
    assert cs.raw == pytest.approx(1.0 - 0.11)


def test_detections_in_the_probationary_period_do_not_count() -> None:
    cs = score_corpus({"f": one_file([3, 10, 40])}, STD)
    assert cs.raw == pytest.approx(1.0)
    assert cs.files[0].fp == 0


def test_file_without_windows_only_loses_by_false_positives() -> None:
    f_no, s_no = one_file([30, 60], windows=[], name="a/none.csv")
    f_yes, s_yes = one_file([40])
    cs = score_corpus({"none": (f_no, s_no), "yes": (f_yes, s_yes)}, STD)
    assert cs.raw == pytest.approx(1.0 - 2 * 0.11)
    assert cs.null == -1.0 and cs.perfect == 1.0


def test_threshold_is_swept_over_the_corpus() -> None:
    # File A: window detected at its start with score 0.9; 0.5 on three rows far from it.
    # File B: its window's start scores only 0.5.
    # Threshold 0.9: raw = 1 (A) - 1 (B missed) = 0.
    # Threshold 0.5: raw = 1 - 3 * 0.11 (A) + 1 (B) = 1.67: the better one.
    t = np.arange(float(N))
    fa = prepare_file("a/a.csv", t, np.zeros(N), [WINDOW])
    sa = np.zeros(N)
    sa[40] = 0.9
    sa[[20, 25, 95]] = 0.5
    fb = prepare_file("a/b.csv", t, np.zeros(N), [WINDOW])
    sb = np.zeros(N)
    sb[40] = 0.5
    cs = score_corpus({"a": (fa, sa), "b": (fb, sb)}, STD)
    assert cs.threshold == 0.5
    assert cs.raw == pytest.approx(2.0 - 3 * 0.11)
    assert cs.normalised == pytest.approx(100.0 * (2.0 - 0.33 + 2.0) / 4.0)
    # With false positives twice as costly, 3 * 0.22 = 0.66 < 1: still worth it.
    assert score_corpus({"a": (fa, sa), "b": (fb, sb)}, LOW_FP).threshold == 0.5


def test_null_detector_scores_zero_and_never_firing_beats_firing_everywhere() -> None:
    f, _ = one_file([])
    s = np.zeros(N)  # every row ties at 0: firing means firing everywhere
    cs = score_corpus({"f": (f, s)}, STD)
    assert cs.normalised == pytest.approx(0.0)
    # Firing on all rows would earn 1 - 0.11 * (many FPs): worse than null here.
    assert cs.threshold == math.inf


def test_window_bounds_follow_timestamps_inside_the_window() -> None:
    t = np.arange(0.0, 1000.0, 10.0)  # rows at 0, 10, ..., 990
    f = prepare_file("a/t.csv", t, np.zeros(len(t)), [(405.0, 495.0)])
    assert f.window_bounds == [(41, 49)]
