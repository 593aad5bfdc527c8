"""Small online statistics shared by the detectors (pure Python floats on the hot path)."""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "EwStats",
    "RollingRobust",
    "log_tail",
    "squash",
    "surprise_score",
]

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: 1.4826 * MAD estimates the standard deviation of a normal sample.
MAD_TO_SIGMA = 1.4826


def squash(z: float, half: float) -> float:
    """Map a non-negative statistic to [0, 1): ``half`` maps to 0.5; never saturates."""
    if z <= 0.0:
        return 0.0
    return z / (z + half)


def log_tail(z: float) -> float:
    """``-ln Q(z)``, the upper normal tail, accurate far into the tail (no underflow)."""
    if z < 5.0:
        return -math.log(0.5 * math.erfc(z / _SQRT2))
    # Asymptotic expansion: erfc underflows long before the scores stop mattering.
    return 0.5 * z * z + math.log(z) + _LOG_SQRT_2PI - math.log1p(-1.0 / (z * z))


def surprise_score(z: float, scale: float) -> float:
    """Score in [0, 1) from a one-sided z: ``1 - exp(-(-log10 Q(z)) / scale)``."""
    if z <= 0.0:
        return 0.0
    return 1.0 - math.exp(-log_tail(z) / (math.log(10.0) * scale))


class EwStats:
    """Exponentially weighted mean and variance; cumulative until ``1/alpha`` samples."""

    __slots__ = ("alpha", "mean", "n", "var")

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.mean = 0.0
        self.var = 0.0
        self.n = 0

    def update(self, x: float) -> None:
        self.n += 1
        a = 1.0 / self.n
        if a < self.alpha:
            a = self.alpha
        d = x - self.mean
        self.mean += a * d
        self.var = (1.0 - a) * (self.var + a * d * d)

    @property
    def std(self) -> float:
        return math.sqrt(self.var) if self.var > 0.0 else 0.0


class RollingRobust:
    """Median and robust scale of the last ``size`` values, refreshed every ``refresh`` rows.

    The scale is ``max(1.4826 * MAD, IQR / 1.349)`` so quantised series (many equal values,
    MAD zero) still get a sensible spread. Refreshing with numpy in batches keeps the
    amortised cost near a microsecond; the estimate lags by less than ``refresh`` rows.
    """

    __slots__ = ("buf", "median", "n", "pos", "refresh", "scale", "since", "size")

    def __init__(self, size: int, refresh: int) -> None:
        self.size = size
        self.refresh = refresh
        # Grown on demand: a series that has seen 3 values costs 3 floats, not `size`
        # (100,000 young series would otherwise hold ~800 MB of zeros).
        self.buf = np.zeros(min(size, 16), dtype=np.float64)
        self.pos = 0
        self.n = 0
        self.since = 0
        self.median = 0.0
        self.scale = 0.0

    def push(self, x: float) -> None:
        if self.pos == len(self.buf):  # still filling: pos == n < size
            grown = np.zeros(min(self.size, 2 * len(self.buf)), dtype=np.float64)
            grown[: len(self.buf)] = self.buf
            self.buf = grown
        self.buf[self.pos] = x
        self.pos += 1
        if self.pos == self.size:
            self.pos = 0
        self.n += 1
        self.since += 1
        # Early on the estimate moves fast: refresh every row until the window holds `refresh`.
        if self.since >= self.refresh or self.n <= self.refresh:
            self.since = 0
            self._recompute()

    def _recompute(self) -> None:
        arr = self.buf if self.n >= self.size else self.buf[: self.n]
        k = len(arr)
        lo, mid, hi = (k - 1) // 4, (k - 1) // 2, (3 * (k - 1)) // 4
        part = np.partition(arr, (lo, mid, hi))
        med = float(part[mid])
        dev = np.abs(arr - med)
        mad = float(np.partition(dev, mid)[mid])
        self.median = med
        self.scale = max(MAD_TO_SIGMA * mad, float(part[hi] - part[lo]) / 1.349)
