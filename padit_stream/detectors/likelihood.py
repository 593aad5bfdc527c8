"""Anomaly likelihood: how unusual the recent raw scores are for this series.

After Numenta's ``AnomalyLikelihood`` (Ahmad et al., 2017): raw scores are averaged over a
short window, the averages' distribution over a long horizon is modelled as a normal, and the
surprise is the tail probability of the current short-term average. A detector whose raw
score is always noisy on a given series (say a bursty counter) is thereby discounted, and
scores become comparable across series, so one threshold fits all of them.
"""

from __future__ import annotations

import math
from collections import deque

from padit_stream.detectors._stats import EwStats, log_tail

__all__ = ["AnomalyLikelihood"]

_LN2 = math.log(2.0)


class AnomalyLikelihood:
    """Surprise ``-ln Q(z) - ln 2`` of the short-term mean of raw scores (0 when typical).

    Args:
        averaging_window: Raw scores in the short-term mean.
        alpha: Smoothing of the long-horizon mean and variance of the short-term means
            (``1 / alpha`` rows is the horizon).
        learning_period: Rows before any surprise is reported.
        min_std: Floor on the long-horizon standard deviation, so a series whose raw scores
            were all zero does not turn the first small raw score into a certainty.

    Example:
        >>> al = AnomalyLikelihood(averaging_window=2, learning_period=20)
        >>> for i in range(200):
        ...     _ = al.update(0.1 if i % 2 else 0.2)
        >>> al.surprise(0.15) < 1.0 < al.surprise(0.9)
        True
    """

    __slots__ = (
        "_buf",
        "_stats",
        "_sum",
        "alpha",
        "averaging_window",
        "learning_period",
        "min_std",
    )

    def __init__(
        self,
        averaging_window: int = 10,
        alpha: float = 1.0 / 2000.0,
        learning_period: int = 300,
        min_std: float = 0.01,
    ) -> None:
        self.averaging_window = averaging_window
        self.alpha = alpha
        self.learning_period = learning_period
        self.min_std = min_std
        self._buf: deque[float] = deque()
        self._sum = 0.0
        self._stats = EwStats(alpha)

    def _mean_with(self, raw: float) -> float:
        n = len(self._buf)
        total = self._sum + raw
        if n >= self.averaging_window:
            total -= self._buf[0]
            n -= 1
        return total / (n + 1)

    def _surprise_of(self, m: float) -> float:
        s = self._stats
        if s.n < self.learning_period:
            return 0.0
        std = s.std
        z = (m - s.mean) / (std if std > self.min_std else self.min_std)
        if z <= 0.0:
            return 0.0
        return log_tail(z) - _LN2

    def surprise(self, raw: float) -> float:
        """Surprise if ``raw`` were the next raw score (state unchanged)."""
        return self._surprise_of(self._mean_with(raw))

    def update(self, raw: float) -> float:
        """Take the next raw score; return its surprise (computed before learning it)."""
        m = self._mean_with(raw)
        out = self._surprise_of(m)
        self._buf.append(raw)
        self._sum += raw
        if len(self._buf) > self.averaging_window:
            self._sum -= self._buf.popleft()
        if self._stats.n % 256 == 0:
            # Re-add from scratch now and then so float drift in the running sum stays bounded.
            self._sum = math.fsum(self._buf)
        self._stats.update(m)
        return out
