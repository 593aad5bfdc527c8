"""New extremes: the value beyond the range seen so far (Numenta's "spatial anomaly")."""

from __future__ import annotations

import math
from typing import ClassVar

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import FloatParam, IntParam, Param

__all__ = ["RangeDetector"]


class RangeDetector(Detector):
    """How far the value lies outside the range seen so far, in fractions of that range.

    Values inside the range score 0. A value beyond every value seen before is, on most
    operational metrics, the plainest anomaly there is; expressing the excursion as a fraction
    of the range makes it comparable across series without any fitted scale. With
    ``decay < 1`` the range shrinks towards the latest value by that factor per row, so an
    old one-off extreme stops masking new ones.

    Args:
        tolerance: Excursion, as a fraction of the range, that scores 0.5.
        decay: Per-row shrink of the range towards the latest value (1: never forget).
        min_periods: Rows to learn before scoring anything but 0.

    Example:
        >>> d = RangeDetector(min_periods=5)
        >>> for i in range(50):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 10)})
        >>> d.score_one({"timestamp": 50.0, "value": 5.0})
        0.0
        >>> round(d.score_one({"timestamp": 50.0, "value": 9.09}), 6)
        0.5
    """

    name = "range"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "tolerance": FloatParam(0.001, 0.5, log=True),
        "decay": FloatParam(0.999, 1.0),
        "min_periods": IntParam(8, 512, log=True),
    }

    def __init__(self, tolerance: float = 0.01, decay: float = 1.0, min_periods: int = 32) -> None:
        self.tolerance = tolerance
        self.decay = decay
        self.min_periods = min_periods
        self._lo = math.inf
        self._hi = -math.inf
        self._n = 0

    def _excess(self, v: float) -> float:
        if self._n < self.min_periods:
            return 0.0
        span = self._hi - self._lo
        if span <= 0.0:
            span = max(abs(self._hi), 1.0) * 1e-6
        return max(v - self._hi, self._lo - v, 0.0) / span

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        if self._n == 0:
            self._lo = self._hi = v
        else:
            d = self.decay
            self._lo = min(v, v + (self._lo - v) * d)
            self._hi = max(v, v + (self._hi - v) * d)
        self._n += 1

    def score_one(self, x: Observation) -> float:
        return squash(self._excess(float(x["value"])), self.tolerance)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        e = self._excess(v)
        return Verdict(
            squash(e, self.tolerance),
            {
                "value": v,
                "range": [self._lo, self._hi],
                "excess_fraction": e,
                "tolerance": self.tolerance,
                "rule": "score = e / (e + tolerance), e = distance outside range / range",
            },
        )
