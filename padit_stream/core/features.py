"""Window features: what they mean, and a from-scratch computation to check them against.

Definitions:

* ``mean``, ``std`` (population, ddof=0), ``min``, ``max``, ``median`` and ``p25``/``p75``/
  ``p95``/``p99`` (numpy's default linear interpolation) over the samples in the window.
* ``trend``: least-squares slope of value against event time, in units per second. Against
  event time rather than sample index, so that irregular cadence and late samples do not bend
  it; 0 when all samples share one timestamp.
* ``gradient``: newest value minus ``mean``.
* ``ewma``: the exponentially weighted moving average of process control,
  ``ewma = alpha * x + (1 - alpha) * ewma`` (the first sample starts it), over the series'
  samples in arrival order. Kept online rather than recomputed over the window: O(1) per
  sample instead of a pass, and free of the jump a window-restarted EWMA makes whenever the
  sample it started from is evicted.
* ``cusum``: Page's two-sided tabular CUSUM in the metric's own units. Each sample ``x`` is
  compared with the window as it was before ``x`` arrived (mean ``m``, standard deviation
  ``s``), with allowance ``k = 0.5 s``: ``C+ = max(0, C+ + x - m - k)``,
  ``C- = max(0, C- - (x - m) - k)``. The feature is ``C+`` when ``C+ >= C-`` and ``-C-``
  otherwise, so its sign gives the direction of a shift and its size the evidence
  accumulated for it; it stays near 0 for a stationary series. The threshold detector compares
  ``|cusum|`` with a per-metric threshold. O(1) per sample; the window-based alternative
  (largest cumulative deviation from the window mean) needs a pass over the whole window on
  every extraction.

``ewma`` and ``cusum`` depend on the order samples arrived in, not only on the window's
content: the stream persists their state with the window, so a worker that restarts (or
takes over a partition) resumes them exactly, and replaying the same records gives the same
values.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["FEATURE_NAMES", "FeatureSet", "recompute_features"]

FloatArray = npt.NDArray[np.float64]


class FeatureSet(NamedTuple):
    """Features of one window (``last`` is the newest value, for detectors)."""

    window_start: float
    window_end: float
    count: int  # type: ignore[assignment]  # shadows tuple.count, as the record field must
    mean: float
    std: float
    min: float
    max: float
    median: float
    p25: float
    p75: float
    p95: float
    p99: float
    trend: float
    ewma: float
    gradient: float
    cusum: float
    last: float


FEATURE_NAMES: tuple[str, ...] = FeatureSet._fields


def recompute_features(
    timestamps: FloatArray | list[float], values: FloatArray | list[float], ewma_alpha: float = 0.3
) -> FeatureSet:
    """Every feature from the whole window with numpy and scipy, from scratch.

    ``timestamps``/``values`` are the window's samples in time order. The window-content
    features are the reference for the tests and the baseline of ``make bench``. Here
    ``ewma`` and ``cusum`` are computed over the window (pandas-style adjusted EWMA; largest
    cumulative deviation from the mean): the work a window-recomputing design does per
    extraction, not PADIT's online definitions, which the tests check separately.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    mean = float(np.mean(x))
    p25, median, p75, p95, p99 = (float(v) for v in np.percentile(x, [25, 50, 75, 95, 99]))
    # Shifting time to the first sample changes no slope and keeps epoch seconds (~1.7e9)
    # from swamping sub-second spacing in the regression's sums.
    trend = float(stats.linregress(ts - ts[0], x).slope) if n > 1 and np.ptp(ts) > 0 else 0.0
    weights = (1.0 - ewma_alpha) ** np.arange(n - 1, -1, -1, dtype=np.float64)
    ewma = float(np.dot(weights, x) / weights.sum())
    cusum = float(np.max(np.abs(np.cumsum(x - mean))))
    return FeatureSet(
        window_start=float(ts[0]),
        window_end=float(ts[-1]),
        count=n,
        mean=mean,
        std=float(np.std(x)),
        min=float(np.min(x)),
        max=float(np.max(x)),
        median=median,
        p25=p25,
        p75=p75,
        p95=p95,
        p99=p99,
        trend=trend,
        ewma=ewma,
        gradient=float(x[-1] - mean),
        cusum=cusum,
        last=float(x[-1]),
    )
