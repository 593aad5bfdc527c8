"""The incremental window against a from-scratch numpy/scipy computation of the features.

Tolerances: numpy's own results carry rounding error proportional to the magnitude of the
data, not of the result (a mean near 0 of values near 1e6, say), while the window computes
mean, std and trend from exact sums. So each feature is compared to within 1e-9 relative to
the larger of the reference value and the scale the reference's error is proportional to.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from padit_stream.core.features import FeatureSet, recompute_features
from padit_stream.core.window import SlidingWindow
from padit_stream.errors import LateSampleError

T0 = 1_700_000_000.0


def reference_content(
    samples: list[tuple[float, float]], span: float, max_count: int, lateness: float
) -> tuple[list[float], list[float], list[int]]:
    """What the window must hold: the rules written out plainly, independent of the code."""
    accepted: list[tuple[float, int, float]] = []
    rejected: list[int] = []
    newest = -math.inf
    for seq, (ts, value) in enumerate(samples):
        if ts < newest and (ts < newest - lateness or ts < newest - span):
            rejected.append(seq)
            continue
        accepted.append((ts, seq, value))
        newest = max(newest, ts)
    live = sorted(a for a in accepted if a[0] >= newest - span)[-max_count:]
    return [a[0] for a in live], [a[2] for a in live], rejected


def reference_online(
    samples: list[tuple[float, float]],
    span: float,
    max_count: int,
    lateness: float,
    alpha: float,
    slack: float = 0.5,
) -> tuple[float, float]:
    """EWMA and signed two-sided CUSUM over accepted samples in arrival order, from scratch."""
    ewma = math.nan
    cpos = cneg = 0.0
    for i, (ts, x) in enumerate(samples):
        before_ts, before_xs, _ = reference_content(samples[:i], span, max_count, lateness)
        newest = max(before_ts, default=-math.inf)
        if before_ts and (ts < newest - lateness or ts < newest - span) and ts < newest:
            continue  # refused: changes nothing
        if not before_xs:
            ewma = x
            continue
        ewma = alpha * x + (1 - alpha) * ewma
        m, s = float(np.mean(before_xs)), float(np.std(before_xs))
        cpos = max(0.0, cpos + (x - m) - slack * s)
        cneg = max(0.0, cneg - (x - m) - slack * s)
    return ewma, (cpos if cpos >= cneg else -cneg)


def assert_features_match(got: FeatureSet, ts: list[float], xs: list[float], alpha: float) -> None:
    ref = recompute_features(ts, xs, alpha)
    x = np.asarray(xs)
    t = np.asarray(ts)
    n = len(xs)
    scale = float(np.max(np.abs(x)))
    t_span = float(np.ptp(t)) if n > 1 else 1.0
    scales = {"trend": scale / t_span if t_span > 0 else 0.0}
    assert got.count == ref.count == n
    assert got.window_start == ref.window_start and got.window_end == ref.window_end
    assert got.min == ref.min and got.max == ref.max and got.last == ref.last
    for name in ("mean", "std", "median", "p25", "p75", "p95", "p99", "trend", "gradient"):
        a, b = getattr(got, name), getattr(ref, name)
        tol = 1e-9 * max(abs(b), scales.get(name, scale))
        assert abs(a - b) <= tol, f"{name}: window {a!r} vs numpy {b!r} (n={n})"


magnitudes = st.sampled_from([1.0, 1e-9, 1e-3, 1e3, 1e9])
values = st.one_of(
    # Near-subnormal values keep only absolute precision, so relative tolerances cannot hold
    # for them; no metric is that small.
    st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False).filter(
        lambda v: v == 0.0 or abs(v) > 1e-200
    ),
    st.sampled_from([0.0, 1.0, 0.1, -3.0]),  # ties and repeats
)
steps = st.one_of(
    st.integers(0, 3_000).map(lambda ms: ms / 1000),  # in order, ties allowed
    st.integers(-45_000, -1).map(lambda ms: ms / 1000),  # late: some within 30 s, some not
)


@settings(max_examples=300, deadline=None)
@given(
    stream=st.lists(st.tuples(steps, values), min_size=1, max_size=300),
    magnitude=magnitudes,
    offset=st.sampled_from([0.0, 1.0, 1e6]),
    span=st.sampled_from([2.0, 20.0, 300.0]),
    max_count=st.sampled_from([1, 2, 7, 1000]),
    alpha=st.sampled_from([0.3, 0.05, 1.0]),
)
def test_features_match_numpy_over_random_streams(
    stream: list[tuple[float, float]],
    magnitude: float,
    offset: float,
    span: float,
    max_count: int,
    alpha: float,
) -> None:
    window = SlidingWindow(span=span, max_count=max_count, lateness=30.0, ewma_alpha=alpha)
    samples = []
    clock = T0
    for step, value in stream:
        if step >= 0:
            clock += step
        # A negative step is a late sample: it lands before the clock without moving it.
        samples.append((clock + min(step, 0.0), offset + magnitude * value))
    late = []
    for i, (t, v) in enumerate(samples):
        try:
            window.add(t, v, i)
        except LateSampleError:
            late.append(i)
    exp_ts, exp_xs, exp_rejected = reference_content(samples, span, max_count, 30.0)
    got_ts, got_xs, _ = window.samples()
    assert late == exp_rejected
    assert got_ts == exp_ts and got_xs == exp_xs
    features = window.features()
    assert features is not None
    assert_features_match(features, exp_ts, exp_xs, alpha)
    ewma, cusum = reference_online(samples, span, max_count, 30.0, alpha)
    scale = max(abs(v) for _, v in samples)
    assert abs(features.ewma - ewma) <= 1e-9 * max(abs(ewma), scale)
    # CUSUM sums n deviations: numpy's mean/std errors add up over them.
    assert abs(features.cusum - cusum) <= 1e-9 * max(abs(cusum), len(samples) * scale)


def test_single_sample() -> None:
    w = SlidingWindow()
    w.add(T0, 42.0)
    f = w.features()
    assert f is not None
    assert (f.count, f.mean, f.std, f.trend, f.cusum, f.gradient) == (1, 42.0, 0.0, 0.0, 0.0, 0.0)
    assert f.p99 == f.median == f.ewma == 42.0


def test_constant_series_has_exactly_zero_spread() -> None:
    w = SlidingWindow(max_count=50)
    for i in range(500):
        w.add(T0 + i, 0.1)
    f = w.features()
    assert f is not None
    assert f.std == 0.0 and f.trend == 0.0 and f.cusum == 0.0 and f.mean == 0.1
    assert f.ewma == 0.1


def test_cusum_accumulates_a_level_shift_with_its_sign() -> None:
    w = SlidingWindow(span=1e9, max_count=100)
    for i in range(50):
        w.add(T0 + i, 10.0 + (i % 2) * 0.2)  # mean 10.1, std 0.1
    steady = w.features()
    assert steady is not None and abs(steady.cusum) < 0.5
    for i in range(50, 55):
        w.add(T0 + i, 12.0)
    up = w.features()
    assert up is not None and up.cusum > 5.0  # about 5 x (12 - 10.1 - k), k shrinking slowly
    w2 = SlidingWindow(span=1e9, max_count=100)
    for i in range(50):
        w2.add(T0 + i, 10.0 + (i % 2) * 0.2)
    for i in range(50, 55):
        w2.add(T0 + i, 8.0)
    down = w2.features()
    assert down is not None and down.cusum < -5.0


def test_empty_window_has_no_features() -> None:
    assert SlidingWindow().features() is None


def test_late_sample_is_refused_with_reason_and_changes_nothing() -> None:
    w = SlidingWindow(lateness=30.0)
    w.add(T0 + 100, 1.0)
    before = w.samples()
    with pytest.raises(LateSampleError, match="older than the newest"):
        w.add(T0 + 69, 2.0)
    assert w.samples() == before
    w.add(T0 + 71, 3.0)  # within lateness: placed where it belongs
    assert w.samples()[0] == [T0 + 71, T0 + 100]


def test_eviction_returns_tags_of_what_left() -> None:
    w = SlidingWindow(span=10.0, max_count=3)
    assert w.add(T0, 1.0, tag=1) == ()
    w.add(T0 + 1, 1.0, tag=2)
    w.add(T0 + 2, 1.0, tag=3)
    assert w.add(T0 + 3, 1.0, tag=4) == (1,)  # count
    assert w.add(T0 + 13, 1.0, tag=5) == (2, 3)  # time: keeps ts >= 13 - 10
    assert len(w) == 2


def test_update_cost_does_not_depend_on_history_length() -> None:
    # Exactness must not come from ever-growing integers: after a million updates the
    # exact sums stay as small as the window's content requires.
    w = SlidingWindow(span=1e12, max_count=100)
    for i in range(200_000):
        w.add(T0 + i * 0.001, (i % 97) * 0.01)
    assert w._sx.bit_length() < 200 and w._stx.bit_length() < 300
