"""Single-statistic detectors against values worked out by hand from their definitions."""

from __future__ import annotations

import math

import pytest

from padit_stream.detectors.extremes import RangeDetector
from padit_stream.detectors.likelihood import AnomalyLikelihood
from padit_stream.detectors.seasonal import SeasonalDetector
from padit_stream.detectors.shift import LevelShiftDetector, VarianceShiftDetector
from padit_stream.detectors.spectral import SpectralResidualDetector
from padit_stream.detectors.statistical import (
    CusumDetector,
    EwmaDetector,
    RobustZScoreDetector,
)


def obs(t: float, v: float) -> dict[str, float]:
    return {"timestamp": t, "value": v}


def test_robust_z_uses_median_and_mad_of_the_window() -> None:
    d = RobustZScoreDetector(window=9, refresh=1, min_periods=9, z_half=6.0)
    for i, v in enumerate([9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0]):
        d.learn_one(obs(float(i), v))
    # median 5; |deviations| 0,1,1,2,2,3,3,4,4 -> MAD 2 -> sigma 1.4826 * 2 = 2.9652.
    # IQR 7 - 3 = 4 -> 4 / 1.349 = 2.9652 as well; the larger of the two is used.
    sigma = max(1.4826 * 2.0, 4.0 / 1.349)
    z = (20.0 - 5.0) / sigma
    assert d.score_one(obs(9.0, 20.0)) == pytest.approx(z / (z + 6.0), rel=1e-9)
    assert d.score_one(obs(9.0, 5.0)) == 0.0
    ev = d.explain_one(obs(9.0, 20.0)).evidence
    assert ev["median"] == 5.0 and ev["z"] == pytest.approx(z)


def test_robust_z_window_forgets_old_values() -> None:
    d = RobustZScoreDetector(window=5, refresh=1, min_periods=5)
    for i in range(5):
        d.learn_one(obs(float(i), 1000.0))
    for i in range(5, 10):
        d.learn_one(obs(float(i), float(i)))  # the window now holds 5..9
    assert d.explain_one(obs(10.0, 7.0)).evidence["median"] == 7.0


def test_robust_z_scores_zero_while_warming_up() -> None:
    d = RobustZScoreDetector(min_periods=10)
    for i in range(9):
        d.learn_one(obs(float(i), 1.0))
    assert d.score_one(obs(9.0, 1e9)) == 0.0


def test_cusum_accumulates_a_small_sustained_shift_and_resets_after_alarm() -> None:
    # Baseline 0/2 alternating: mean 1, variance 1 once alpha's weights are even; use a
    # large alpha window so the baseline is the plain mean and variance of the first rows.
    d = CusumDetector(k=0.5, h=4.0, alpha=1e-9, min_periods=10)
    for i in range(10):
        d.learn_one(obs(float(i), 0.0 if i % 2 else 2.0))
    # Cumulative mean 1, population variance 1: u = value - 1. A value of 2 gives u = 1,
    # so S+ grows by u - k = 0.5 per row (the baseline moves little while it learns).
    first = d.explain_one(obs(10.0, 2.0)).evidence["cusum_pos"]
    assert first == pytest.approx(0.5, abs=1e-9)
    sums = []
    for i in range(10, 30):
        sums.append(d.explain_one(obs(float(i), 3.0)).evidence["cusum_pos"])
        d.learn_one(obs(float(i), 3.0))
    assert sums[1] > sums[0] > 0.0
    # The alarm (S+ above h) resets the sums: a later row starts again from a small sum.
    peak = max(range(len(sums)), key=sums.__getitem__)
    assert sums[peak] > 4.0
    assert sums[peak + 1] < sums[peak]


def test_ewma_chart_limits_follow_lambda() -> None:
    d = EwmaDetector(lam=0.5, alpha=1e-9, min_periods=4)
    for i, v in enumerate([0.0, 2.0, 0.0, 2.0]):
        d.learn_one(obs(float(i), v))
    # Baseline: mean 1, variance 1. Chart: e0 = 0; e1 = 1; e2 = 0.5; e3 = 1.25.
    # Next e = 0.5 * 5 + 0.5 * 1.25 = 3.125; chart sigma = 1 * sqrt(0.5 / 1.5).
    ev = d.explain_one(obs(4.0, 5.0)).evidence
    assert ev["ewma"] == pytest.approx(3.125)
    assert ev["z"] == pytest.approx((3.125 - 1.0) / math.sqrt(0.5 / 1.5))


def test_level_shift_prefers_a_sustained_shift_over_a_lone_spike() -> None:
    spike, shift = LevelShiftDetector(short=6, long=60), LevelShiftDetector(short=6, long=60)
    for i in range(100):
        v = float(i % 3)
        spike.learn_one(obs(float(i), v))
        shift.learn_one(obs(float(i), v))
    for i in range(100, 105):
        spike.learn_one(obs(float(i), float(i % 3)))
        shift.learn_one(obs(float(i), 20.0))
    x = obs(105.0, 20.0)
    assert shift.score_one(x) > spike.score_one(x)
    # Recent median of six rows at 20 against median 1; the lone spike leaves the median of
    # the recent rows (1 of 6 at 20) where the baseline's cycle puts it.
    z_shift = shift.explain_one(x).evidence["z"]
    z_spike = spike.explain_one(x).evidence["z"]
    assert z_shift > 4 * z_spike


def test_level_shift_median_ignores_a_spike_the_mean_would_count() -> None:
    med = LevelShiftDetector(short=6, long=60)
    mean = LevelShiftDetector(short=6, long=60, center="mean")
    for i in range(100):
        for d in (med, mean):
            d.learn_one(obs(float(i), 1.0 + 0.1 * (i % 3)))
    spike = obs(100.0, 100.0)
    # Mean of 5 rows near 1.1 and one at 100 moves by ~16.5: far outside the baseline.
    assert mean.explain_one(spike).evidence["recent_center"] == pytest.approx(
        (100.0 + sum(1.0 + 0.1 * (i % 3) for i in range(95, 100))) / 6
    )
    assert mean.score_one(spike) > 0.9
    assert med.explain_one(spike).evidence["recent_center"] < 1.3
    assert med.score_one(spike) < 0.5
    with pytest.raises(ValueError, match="center"):
        LevelShiftDetector(center="mode")


def test_variance_shift_sees_oscillation_not_level() -> None:
    d = VarianceShiftDetector(short=4, min_periods=20)
    for i in range(300):
        d.learn_one(obs(float(i), float(i % 2)))
    level = d.score_one(obs(300.0, 0.0))
    for i in range(300, 310):
        d.learn_one(obs(float(i), 10.0 * (i % 2)))
    wild = d.score_one(obs(310.0, 0.0))
    assert wild > 0.5 > level
    assert d.explain_one(obs(310.0, 0.0)).evidence["std_ratio"] > 3.0


def test_seasonal_baseline_is_the_same_phase_of_the_period() -> None:
    d = SeasonalDetector(period=10.0, alpha_bin=1.0, min_periods=5)
    for i in range(100):
        d.learn_one(obs(float(i), float(i % 10)))
    ev = d.explain_one(obs(103.0, 3.0)).evidence
    assert ev["seasonal_baseline"] == 3.0 and ev["residual"] == 0.0
    assert d.score_one(obs(103.0, 3.0)) < d.score_one(obs(103.0, 8.0))


def test_anomaly_likelihood_surprise_grows_with_the_raw_score() -> None:
    al = AnomalyLikelihood(averaging_window=1, alpha=1e-9, learning_period=10, min_std=0.01)
    for i in range(100):
        al.update(0.1 if i % 2 else 0.3)
    # Mean 0.2, std 0.1: a raw 0.5 is z = 3, surprise -ln Q(3) - ln 2.
    q3 = 0.5 * math.erfc(3.0 / math.sqrt(2.0))
    assert al.surprise(0.5) == pytest.approx(-math.log(q3) - math.log(2.0), rel=1e-6)
    assert al.surprise(0.1) == 0.0
    assert al.surprise(0.9) > al.surprise(0.5)


def test_range_scores_the_excursion_beyond_the_all_time_range() -> None:
    d = RangeDetector(tolerance=0.01, min_periods=3)
    for i, v in enumerate([10.0, 30.0, 20.0, 25.0]):
        d.learn_one(obs(float(i), v))
    # Range [10, 30], width 20. 31 is 1 beyond: e = 1/20 = 0.05; score e / (e + 0.01).
    assert d.score_one(obs(4.0, 31.0)) == pytest.approx(0.05 / 0.06)
    assert d.score_one(obs(4.0, 6.0)) == pytest.approx(0.2 / 0.21)
    assert d.score_one(obs(4.0, 29.0)) == 0.0
    d.learn_one(obs(4.0, 40.0))  # the range grows to [10, 40]
    assert d.score_one(obs(5.0, 35.0)) == 0.0


def test_spectral_residual_singles_out_a_spike_in_a_smooth_wave() -> None:
    d = SpectralResidualDetector()
    for i in range(100):
        d.learn_one(obs(float(i), math.sin(i / 5.0)))
    calm = d.explain_one(obs(100.0, math.sin(100 / 5.0))).evidence["saliency_ratio"]
    spike = d.explain_one(obs(100.0, 10.0)).evidence["saliency_ratio"]
    assert spike > 5.0 > calm
