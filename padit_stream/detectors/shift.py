"""Change detectors: level shift (short mean against a long robust baseline), variance shift."""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from padit_stream.detectors._stats import RollingRobust, squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import CategoricalParam, FloatParam, IntParam, Param
from padit_stream.detectors.statistical import scale_floor

__all__ = ["LevelShiftDetector", "VarianceShiftDetector"]


class LevelShiftDetector(Detector):
    """Median (or mean) of the last ``short`` values against the median/MAD of the ``long`` before.

    The recent median moves only once more than half of the last ``short`` rows sit at a new
    level, so this fires on sustained level changes and ignores lone spikes entirely (a mean
    would still move by ``spike / short``, and on a spiky series those pushes set the scale
    that a real shift is later compared with).

    Args:
        short: Rows in the recent window (the current row included).
        long: Rows in the baseline, which ends where the recent window begins.
        refresh: Rows between recomputations of the baseline median and MAD.
        z_half: Shift, in baseline robust sigmas, that scores 0.5.
        center: ``"median"`` or ``"mean"`` of the recent window.

    Example:
        >>> d = LevelShiftDetector(short=4, long=40)
        >>> for i in range(60):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 3)})
        >>> for i in range(60, 63):
        ...     d.learn_one({"timestamp": float(i), "value": 30.0})
        >>> d.score_one({"timestamp": 63.0, "value": 30.0}) > 0.8
        True
    """

    name = "level_shift"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "short": IntParam(3, 48, log=True),
        "long": IntParam(100, 5000, log=True),
        "z_half": FloatParam(1.0, 16.0, log=True),
        "center": CategoricalParam(("median", "mean")),
    }

    def __init__(
        self,
        short: int = 12,
        long: int = 1000,
        refresh: int = 16,
        z_half: float = 4.0,
        center: str = "median",
    ) -> None:
        if center not in ("median", "mean"):
            raise ValueError(f"center must be 'median' or 'mean', got {center!r}")
        self.short = short
        self.long = long
        self.refresh = refresh
        self.z_half = z_half
        self.center = center
        self._recent: deque[float] = deque()
        self._sum = 0.0
        self._base = RollingRobust(long, refresh)

    def _recent_center(self, v: float) -> float:
        if self.center == "median":
            vals = list(self._recent)
            if len(vals) >= self.short:
                del vals[0]
            vals.append(v)
            vals.sort()
            k = len(vals)
            return vals[k // 2] if k % 2 else 0.5 * (vals[k // 2 - 1] + vals[k // 2])
        n = len(self._recent)
        total = self._sum + v
        if n >= self.short:
            total -= self._recent[0]
            n -= 1
        return total / (n + 1)

    def _z(self, v: float) -> tuple[float, float]:
        center = self._recent_center(v)
        b = self._base
        if b.n < self.short:
            return 0.0, center
        return abs(center - b.median) / scale_floor(b.scale, b.median), center

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        self._recent.append(v)
        self._sum += v
        if len(self._recent) > self.short:
            old = self._recent.popleft()
            self._sum -= old
            self._base.push(old)
        if len(self._recent) == self.short and self._base.n % 64 == 0:
            # Re-add from scratch now and then so float drift in the running sum stays bounded.
            self._sum = math.fsum(self._recent)

    def score_one(self, x: Observation) -> float:
        return squash(self._z(float(x["value"]))[0], self.z_half)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        z, center = self._z(v)
        b = self._base
        return Verdict(
            squash(z, self.z_half),
            {
                "value": v,
                "recent_center": center,
                "center": self.center,
                "baseline_median": b.median,
                "baseline_robust_sigma": b.scale,
                "z": z,
                "z_half": self.z_half,
                "rule": "score = z / (z + z_half), z = |recent center - median| / robust sigma",
            },
        )


class VarianceShiftDetector(Detector):
    """Fast against slow EW variance of first differences: ``|ln(std_fast / std_slow)|``.

    Differencing removes the level, so this reacts to a change in noise or oscillation
    (a stuck sensor, a flapping link) rather than to a shift of the mean.

    Args:
        short: Span of the fast variance (alpha = 2 / (short + 1)).
        alpha: Smoothing of the slow variance.
        min_periods: Rows to learn before scoring anything but 0.
        ratio_half: Ratio of standard deviations (either way) that scores 0.5.

    Example:
        >>> d = VarianceShiftDetector(short=8, min_periods=20)
        >>> for i in range(200):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 2)})
        >>> for i in range(200, 210):
        ...     d.learn_one({"timestamp": float(i), "value": 10.0 * (i % 2)})
        >>> d.score_one({"timestamp": 210.0, "value": 0.0}) > 0.5
        True
    """

    name = "variance_shift"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "short": IntParam(4, 64, log=True),
        "alpha": FloatParam(0.0005, 0.05, log=True),
        "ratio_half": FloatParam(1.5, 10.0, log=True),
    }

    def __init__(
        self,
        short: int = 16,
        alpha: float = 0.005,
        min_periods: int = 64,
        ratio_half: float = 3.0,
    ) -> None:
        self.short = short
        self.alpha = alpha
        self.min_periods = min_periods
        self.ratio_half = ratio_half
        self._fast = 0.0
        self._slow = 0.0
        self._prev: float | None = None
        self._n = 0

    def _update(self, v: float) -> tuple[float, float]:
        if self._prev is None:
            return self._fast, self._slow
        d2 = (v - self._prev) ** 2
        af = 2.0 / (self.short + 1.0)
        a_slow = max(self.alpha, 1.0 / (self._n + 1))
        return self._fast + af * (d2 - self._fast), self._slow + a_slow * (d2 - self._slow)

    def _log_ratio(self, v: float) -> float:
        if self._n < self.min_periods:
            return 0.0
        fast, _ = self._update(v)
        floor = 1e-12 * max(1.0, abs(v)) ** 2
        return 0.5 * math.log(max(fast, floor) / max(self._slow, floor))

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        if self._prev is not None:
            self._fast, self._slow = self._update(v)
            self._n += 1
        self._prev = v

    def score_one(self, x: Observation) -> float:
        return squash(abs(self._log_ratio(float(x["value"]))), math.log(self.ratio_half))

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        lr = self._log_ratio(v)
        return Verdict(
            squash(abs(lr), math.log(self.ratio_half)),
            {
                "value": v,
                "std_ratio": math.exp(lr),
                "slow_diff_std": math.sqrt(self._slow),
                "ratio_half": self.ratio_half,
                "rule": "score = r / (r + ln ratio_half), r = |ln(std_fast / std_slow)|",
            },
        )
