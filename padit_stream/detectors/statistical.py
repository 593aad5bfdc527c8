"""Point detectors on one value: robust z-score, EWMA control chart, two-sided CUSUM.

Each needs only ``value`` (and ``timestamp``) from the observation; window features, when
present, are ignored. Scores are monotone in the detector's statistic and never saturate, so
a threshold sweep can still rank large deviations.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from padit_stream.detectors._stats import EwStats, RollingRobust, squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import FloatParam, IntParam, Param

__all__ = ["CusumDetector", "EwmaDetector", "RobustZScoreDetector", "scale_floor"]


def scale_floor(scale: float, centre: float) -> float:
    """Keep a spread estimate away from zero (flat or quantised series)."""
    floor = 1e-6 * max(1.0, abs(centre))
    return scale if scale > floor else floor


class RobustZScoreDetector(Detector):
    """``|value - median| / (1.4826 MAD)`` over a sliding window of past values.

    Args:
        window: Past values kept for the median and MAD.
        refresh: Rows between recomputations of median and MAD (amortises the cost).
        min_periods: Rows to learn before scoring anything but 0.
        z_half: The robust z that scores 0.5.

    Example:
        >>> d = RobustZScoreDetector(window=50, min_periods=10)
        >>> for i in range(50):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 5)})
        >>> d.score_one({"timestamp": 50.0, "value": 2.0}) < 0.1
        True
        >>> d.score_one({"timestamp": 50.0, "value": 40.0}) > 0.8
        True
    """

    name = "robust_z"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "window": IntParam(100, 5000, log=True),
        "min_periods": IntParam(8, 256, log=True),
        "z_half": FloatParam(2.0, 20.0, log=True),
    }

    def __init__(
        self, window: int = 1000, refresh: int = 16, min_periods: int = 32, z_half: float = 6.0
    ) -> None:
        self.window = window
        self.refresh = refresh
        self.min_periods = min_periods
        self.z_half = z_half
        self._roll = RollingRobust(window, refresh)

    def _z(self, v: float) -> float:
        r = self._roll
        if r.n < self.min_periods:
            return 0.0
        return abs(v - r.median) / scale_floor(r.scale, r.median)

    def learn_one(self, x: Observation) -> None:
        self._roll.push(float(x["value"]))

    def score_one(self, x: Observation) -> float:
        return squash(self._z(float(x["value"])), self.z_half)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        z = self._z(v)
        r = self._roll
        return Verdict(
            squash(z, self.z_half),
            {
                "value": v,
                "median": r.median,
                "robust_sigma": r.scale,
                "z": z,
                "z_half": self.z_half,
                "warming_up": r.n < self.min_periods,
                "rule": "score = z / (z + z_half), z = |value - median| / (1.4826 MAD)",
            },
        )


class EwmaDetector(Detector):
    """EWMA control chart: the smoothed value against limits from a slow baseline.

    The chart statistic ``e = lam * value + (1 - lam) * e`` has standard deviation
    ``sigma * sqrt(lam / (2 - lam))`` around the baseline mean; small persistent shifts move
    it well outside that band while single noisy points do not.

    Args:
        lam: Smoothing of the chart statistic (small: sensitive to small sustained shifts).
        alpha: Smoothing of the baseline mean and variance.
        min_periods: Rows to learn before scoring anything but 0.
        z_half: Chart deviation, in chart sigmas, that scores 0.5.

    Example:
        >>> d = EwmaDetector(min_periods=10)
        >>> for i in range(100):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 2)})
        >>> d.score_one({"timestamp": 100.0, "value": 0.5}) < d.score_one(
        ...     {"timestamp": 100.0, "value": 9.0})
        True
    """

    name = "ewma"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "lam": FloatParam(0.02, 0.5, log=True),
        "alpha": FloatParam(0.001, 0.1, log=True),
        "z_half": FloatParam(2.0, 20.0, log=True),
    }

    def __init__(
        self, lam: float = 0.2, alpha: float = 0.01, min_periods: int = 32, z_half: float = 6.0
    ) -> None:
        self.lam = lam
        self.alpha = alpha
        self.min_periods = min_periods
        self.z_half = z_half
        self._base = EwStats(alpha)
        self._e = 0.0

    def _z(self, v: float) -> tuple[float, float]:
        b = self._base
        e = self.lam * v + (1.0 - self.lam) * (self._e if b.n else v)
        if b.n < self.min_periods:
            return 0.0, e
        sigma = scale_floor(b.std, b.mean) * math.sqrt(self.lam / (2.0 - self.lam))
        return abs(e - b.mean) / sigma, e

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        _, self._e = self._z(v)
        self._base.update(v)

    def score_one(self, x: Observation) -> float:
        return squash(self._z(float(x["value"]))[0], self.z_half)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        z, e = self._z(v)
        return Verdict(
            squash(z, self.z_half),
            {
                "value": v,
                "ewma": e,
                "baseline_mean": self._base.mean,
                "baseline_std": self._base.std,
                "z": z,
                "z_half": self.z_half,
                "rule": "score = z / (z + z_half), z = |ewma - mean| / chart sigma",
            },
        )


class CusumDetector(Detector):
    """Two-sided CUSUM on values standardised by a slow EW baseline.

    ``S+ = max(0, S+ + u - k)``, ``S- = max(0, S- - u - k)`` with ``u`` the standardised value;
    an alarm (either sum above ``h``) resets both sums so one shift raises one alarm.

    Args:
        k: Allowance, in baseline sigmas (half the shift to detect quickly).
        h: Decision interval; the sum ``h`` scores 0.5.
        alpha: Smoothing of the baseline mean and variance.
        min_periods: Rows to learn before scoring anything but 0.

    Example:
        >>> d = CusumDetector(min_periods=10)
        >>> for i in range(100):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 2)})
        >>> d.score_one({"timestamp": 100.0, "value": 0.5}) < 0.2
        True
    """

    name = "cusum"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "k": FloatParam(0.1, 2.0),
        "h": FloatParam(2.0, 30.0, log=True),
        "alpha": FloatParam(0.001, 0.1, log=True),
    }

    def __init__(
        self, k: float = 0.5, h: float = 8.0, alpha: float = 0.01, min_periods: int = 32
    ) -> None:
        self.k = k
        self.h = h
        self.alpha = alpha
        self.min_periods = min_periods
        self._base = EwStats(alpha)
        self._pos = 0.0
        self._neg = 0.0

    def _sums(self, v: float) -> tuple[float, float]:
        b = self._base
        if b.n < self.min_periods:
            return 0.0, 0.0
        u = (v - b.mean) / scale_floor(b.std, b.mean)
        # Cap one row's push so a single outlier cannot raise a shift alarm alone.
        u = max(-4.0 * self.h, min(4.0 * self.h, u))
        return max(0.0, self._pos + u - self.k), max(0.0, self._neg - u - self.k)

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        pos, neg = self._sums(v)
        if pos > self.h or neg > self.h:
            pos = neg = 0.0
        self._pos, self._neg = pos, neg
        self._base.update(v)

    def score_one(self, x: Observation) -> float:
        pos, neg = self._sums(float(x["value"]))
        return squash(max(pos, neg), self.h)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        pos, neg = self._sums(v)
        evidence: dict[str, Any] = {
            "value": v,
            "baseline_mean": self._base.mean,
            "baseline_std": self._base.std,
            "cusum_pos": pos,
            "cusum_neg": neg,
            "k": self.k,
            "h": self.h,
            "rule": "score = S / (S + h), S = max(S+, S-)",
        }
        return Verdict(squash(max(pos, neg), self.h), evidence)
