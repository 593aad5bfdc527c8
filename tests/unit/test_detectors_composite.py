"""The composite's calibration and hold-off, the config and factory, the backtest loop."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from padit_stream.detectors.composite import CompositeDetector
from padit_stream.detectors.config import (
    DetectionConfig,
    build_detector,
    load_detection_config,
)
from padit_stream.detectors.rules import ThresholdDetector
from padit_stream.detectors.statistical import RobustZScoreDetector
from padit_stream.errors import ConfigError
from padit_stream.evaluation.backtest import run_series


def obs(t: float, v: float) -> dict[str, float]:
    return {"timestamp": t, "value": v}


def noisy(n: int, seed: int = 3) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    t = (1.4e9 + 300.0 * np.arange(n)).tolist()
    v = (10.0 + rng.normal(0.0, 1.0, n)).tolist()
    return t, v


def test_record_ratio_is_statistic_over_its_running_maximum() -> None:
    # One component, no decay: the ratio is z / max z seen so far (both in z_half units).
    d = CompositeDetector(
        components=("robust_z",), learning_period=0, decay=1.0, odds_floor=1e-9, holdoff=0
    )
    ref = RobustZScoreDetector()
    t, v = noisy(400)
    best = 0.0
    for a, b in zip(t, v, strict=True):
        x = obs(a, b)
        s_ref = ref.score_one(x)
        odds = s_ref / (1.0 - s_ref)
        if best > 0.0:
            r = odds / best
            assert d.score_one(x) == pytest.approx(r / (1.0 + r), rel=1e-9)
        best = max(best, odds)
        d.learn_one(x)
        ref.learn_one(x)


def test_spike_after_quiet_history_is_an_alarm_then_repeats_are_damped() -> None:
    d = CompositeDetector(learning_period=100, holdoff=10, damp=0.5)
    t, v = noisy(1200)
    for a, b in zip(t, v, strict=True):
        d.learn_one(obs(a, b))
    spike = obs(t[-1] + 300.0, 60.0)
    first = d.score_one(spike)
    assert first > 0.5
    ev = d.explain_one(spike).evidence
    assert ev["calibrated"][ev["dominant"]] > 1.0  # a new record on this series
    assert ev["calibrated"]["robust_z"] > 1.0
    d.learn_one(spike)
    # The same spike again right away: damped by the hold-off (and no longer a record).
    again = obs(t[-1] + 600.0, 60.0)
    assert d.explain_one(again).evidence["held_off"] is True
    assert d.score_one(again) < first


def test_likelihood_calibration_runs_and_stays_in_range() -> None:
    d = CompositeDetector(calibration="likelihood", learning_period=50)
    t, v = noisy(600)
    scores = run_series(d, t, v)
    assert ((scores >= 0.0) & (scores < 1.0)).all()
    assert (scores[:50] == 0.0).all()


def test_composite_rejects_unknown_calibration_and_components() -> None:
    with pytest.raises(ValueError, match="calibration"):
        CompositeDetector(calibration="magic")
    with pytest.raises(ValueError, match="unknown components"):
        CompositeDetector(components=("robust_z", "nope"))


def test_run_series_is_score_then_learn_without_look_ahead() -> None:
    t, v = noisy(800)
    full = run_series(CompositeDetector(), t, v)
    # Changing the future does not change the past.
    v2 = v[:500] + [x * 3.0 + 50.0 for x in v[500:]]
    changed = run_series(CompositeDetector(), t, v2)
    assert np.array_equal(full[:500], changed[:500])
    assert not np.array_equal(full[500:], changed[500:])
    # Same as the loop written out.
    d = CompositeDetector()
    manual = []
    for a, b in zip(t, v, strict=True):
        manual.append(d.score_one({"timestamp": a, "value": b}))
        d.learn_one({"timestamp": a, "value": b})
    assert np.array_equal(full, np.asarray(manual))


def test_config_defaults_overrides_and_thresholds() -> None:
    cfg = DetectionConfig.model_validate(
        {
            "metrics": {
                "rtt": {"detector": "robust_z", "params": {"window": 50}},
                "flaps": {"detector": "threshold"},
            },
            "thresholds": {"flaps": {"p99": 3.0, "cusum": 10.0}},
        }
    )
    assert isinstance(build_detector(cfg, "other"), CompositeDetector)
    rz = build_detector(cfg, "rtt")
    assert isinstance(rz, RobustZScoreDetector) and rz.window == 50
    th = build_detector(cfg, "flaps")
    assert isinstance(th, ThresholdDetector)
    x = {"timestamp": 0.0, "value": 1.0, "p99": 4.0, "cusum": 11.0}
    assert th.score_one(x) == 1.0


def test_config_rejects_unknown_detector_params_and_keys(tmp_path: Path) -> None:
    bad_param = tmp_path / "p.yaml"
    bad_param.write_text("metrics:\n  rtt:\n    detector: robust_z\n    params: {windw: 5}\n")
    with pytest.raises(ConfigError, match=r"p\.yaml.*metrics\.rtt.*windw"):
        load_detection_config(bad_param)
    bad_name = tmp_path / "n.yaml"
    bad_name.write_text("default:\n  detector: magic\n")
    with pytest.raises(ConfigError, match=r"n\.yaml.*default\.detector.*magic"):
        load_detection_config(bad_name)
    extra = tmp_path / "e.yaml"
    extra.write_text("defaults: {}\n")
    with pytest.raises(ConfigError, match=r"e\.yaml.*defaults"):
        load_detection_config(extra)


def test_config_reads_yaml_with_or_without_a_detection_section(tmp_path: Path) -> None:
    plain = tmp_path / "a.yaml"
    plain.write_text("default:\n  detector: cusum\n  params: {h: 6.0}\n")
    wrapped = tmp_path / "b.yaml"
    wrapped.write_text("detection:\n  default:\n    detector: cusum\n    params: {h: 6.0}\n")
    for path in (plain, wrapped):
        det = build_detector(load_detection_config(path), "m")
        assert det.name == "cusum" and math.isclose(det.h, 6.0)  # type: ignore[attr-defined]


def test_default_on_a_steady_latency_metric_scores_the_spike_and_the_shift_not_the_rest() -> None:
    # A probe's round-trip time at a 1-minute cadence: 20 ms with 0.5 ms jitter, one 80 ms
    # spike, then the path changes and the latency settles 6 ms higher (12 jitter sigmas).
    rng = np.random.default_rng(11)
    n, spike_at, shift_at = 3000, 1500, 2000
    t = (1.7e9 + 60.0 * np.arange(n)).tolist()
    v = 20.0 + rng.normal(0.0, 0.5, n)
    v[shift_at:] += 6.0
    v[spike_at] = 80.0
    s = run_series(build_detector(DetectionConfig(), "rtt_ms"), t, v.tolist())
    learning = CompositeDetector().learning_period
    steady = np.r_[s[learning:spike_at], s[spike_at + 1 : shift_at], s[shift_at + 12 :]]
    assert s[spike_at] > 0.9
    assert s[shift_at : shift_at + 12].max() > 0.6  # within 12 minutes of the change
    # The steady rows stay below a tie with their own record (0.5) nearly always...
    assert np.median(steady) < 0.3
    assert np.quantile(steady, 0.99) < 0.5
    # ...and the day after the spike, its time of day is not flagged again.
    day = 1440
    assert s[spike_at + day - 5 : spike_at + day + 5].max() < 0.5
