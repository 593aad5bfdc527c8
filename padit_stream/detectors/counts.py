"""Count series (errors, drops, retransmissions per interval): surprise under a Poisson-like
rate, so a burst of 6 on a counter averaging 0.5 weighs what 130 does on one averaging 100,
and a busy counter falling to zero is seen while a sparse one's zeros are not.

Measured with ``padit eval nab --cv``: inside the composite 66.63 / 59.23 / 71.08 (standard /
low FP / low FN) against 66.83 / 59.63 / 71.22 without it on NAB, which has few count series;
on the synthetic telemetry (seed 1) 67.96 / 60.70 / 63.00 against 67.96 / 60.70 / 63.19. Meant
for metrics configured as counts (``detection.metrics``), not part of the default composite.
"""

from __future__ import annotations

import math
from typing import ClassVar

from padit_stream.detectors._stats import EwStats, squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import FloatParam, Param

__all__ = ["CountDetector"]


def _anscombe(v: float) -> float:
    return 2.0 * math.sqrt(v + 0.375) if v > -0.375 else 0.0


class CountDetector(Detector):
    """Anscombe residual of the count against the recent rate, in units of its dispersion.

    ``z = (A(x) - A(rate)) / sqrt(dispersion)`` with ``A(x) = 2 sqrt(x + 3/8)``, which is
    about standard normal for a Poisson count at any rate; ``dispersion`` (variance over
    mean, at least 1) widens it for burstier-than-Poisson counters. Both directions count: a
    burst is ``z > 0``; a drop to zero of a busy counter is a large ``z < 0``, while zeros of
    a counter that is often zero are not. The rate and dispersion are exponentially weighted
    over about ``1 / alpha`` rows.

    Args:
        alpha: Weight of the newest row in the rate and dispersion.
        min_periods: Rows to learn before scoring anything but 0.
        z_half: ``|z|`` that scores 0.5.

    Example:
        >>> d = CountDetector(min_periods=20)
        >>> for i in range(300):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 3 == 0)})
        >>> d.score_one({"timestamp": 300.0, "value": 1.0}) < 0.3
        True
        >>> d.score_one({"timestamp": 300.0, "value": 12.0}) > 0.5
        True
    """

    name = "count"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "alpha": FloatParam(0.0005, 0.05, log=True),
        "z_half": FloatParam(2.0, 20.0, log=True),
    }

    def __init__(self, alpha: float = 0.005, min_periods: int = 32, z_half: float = 5.0) -> None:
        self.alpha = alpha
        self.min_periods = min_periods
        self.z_half = z_half
        self._stats = EwStats(alpha)

    def _z(self, v: float) -> float:
        s = self._stats
        if s.n < self.min_periods:
            return 0.0
        rate = s.mean if s.mean > 0.0 else 0.0
        dispersion = s.var / rate if rate > 0.0 else 1.0
        return (_anscombe(v) - _anscombe(rate)) / math.sqrt(dispersion if dispersion > 1.0 else 1.0)

    def learn_one(self, x: Observation) -> None:
        self._stats.update(float(x["value"]))

    def score_one(self, x: Observation) -> float:
        return squash(abs(self._z(float(x["value"]))), self.z_half)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        z = self._z(v)
        s = self._stats
        return Verdict(
            squash(abs(z), self.z_half),
            {
                "value": v,
                "rate": s.mean,
                "dispersion": s.var / s.mean if s.mean > 0.0 else 1.0,
                "z": z,
                "z_half": self.z_half,
                "rule": "score = |z| / (|z| + z_half), z = Anscombe residual / sqrt(dispersion)",
            },
        )
