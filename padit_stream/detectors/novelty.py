"""Pattern novelty: distance of the recent shape to the nearest shape seen before."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict

__all__ = ["NoveltyDetector"]


class NoveltyDetector(Detector):
    """Nearest-neighbour distance of the last ``window`` values to past windows."""

    name = "novelty"

    def __init__(
        self, window: int = 6, memory: int = 2000, exclude: int = 0, d_half: float = 0.1,
        min_periods: int = 100,
    ) -> None:
        self.window = window
        self.memory = memory
        self.exclude = exclude or window
        self.d_half = d_half
        self.min_periods = min_periods
        self._recent: deque[float] = deque(maxlen=window)
        self._mem = np.zeros((memory, window))
        self._count = 0
        self._pending: deque[np.ndarray] = deque()
        self._lo = math.inf
        self._hi = -math.inf

    def _vec(self, v: float) -> np.ndarray | None:
        if len(self._recent) < self.window - 1:
            return None
        vals = list(self._recent)[-(self.window - 1):] + [v]
        return np.asarray(vals)

    def _dist(self, v: float) -> float:
        if self._count < self.min_periods:
            return 0.0
        q = self._vec(v)
        if q is None:
            return 0.0
        n = min(self._count, self.memory)
        span = self._hi - self._lo
        if span <= 0:
            span = max(abs(self._hi), 1.0) * 1e-3
        d = np.sqrt(((self._mem[:n] - q) ** 2).mean(axis=1).min())
        return float(d) / span

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        q = self._vec(v)
        self._recent.append(v)
        self._lo = min(self._lo, v)
        self._hi = max(self._hi, v)
        if q is not None:
            self._pending.append(np.asarray(list(self._recent)))
            if len(self._pending) > self.exclude:
                raw = self._pending.popleft()
                self._mem[self._count % self.memory] = raw
                self._count += 1
        # store raw values; normalise memory lazily
        
    def score_one(self, x: Observation) -> float:
        return squash(self._dist(float(x["value"])), self.d_half)
