"""Window features: what they mean, and the seed's from-scratch computation.

Definitions (kept from the seed, made precise where the seed was silent):

* ``mean``, ``std`` (population, ddof=0), ``min``, ``max``, ``median`` and ``p25``/``p75``/
  ``p95``/``p99`` (numpy's default linear interpolation) over the samples in the window.
* ``trend``: least-squares slope of value against event time, in units per second. Against
  event time rather than sample index, so that irregular cadence and late samples do not bend
  it; 0 when all samples share one timestamp.
* ``ewma``: exponentially weighted mean of the window in time order with weight
  ``(1 - alpha) ** age`` (age 0 = newest), normalised by the sum of the weights. This is
  pandas' ``ewm(alpha=...).mean()`` (``adjust=True``) at the newest sample: it does not depend
  on an arbitrary starting value, so a window that has just evicted its oldest samples still
  gives the same answer as a from-scratch computation.
* ``gradient``: newest value minus ``mean``.
* ``cusum``: the largest absolute cumulative sum of deviations from the window mean,
  ``max_k |sum_{i<=k} (x_i - mean)|`` in time order. It is 0 for a stationary series and grows
  with the size of a level shift times the number of samples on one side of it, which is why
  the seed's rule compares it with a per-metric threshold. It needs a pass over the window.
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
    """The seed's approach: every feature from scratch with numpy and scipy.

    ``timestamps``/``values`` are the window's samples in time order. Used as the reference
    in tests and as the baseline in ``make bench``; the stream uses :mod:`.window`.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    mean = float(np.mean(x))
    p25, median, p75, p95, p99 = (float(v) for v in np.percentile(x, [25, 50, 75, 95, 99]))
    trend = float(stats.linregress(ts, x).slope) if n > 1 and np.ptp(ts) > 0 else 0.0
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
