"""Pattern novelty: distance of the recent shape to the nearest shape seen before."""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import FloatParam, IntParam, Param

__all__ = ["NoveltyDetector"]


class NoveltyDetector(Detector):
    """Nearest-neighbour distance of the last ``window`` values to the past windows.

    The distance (RMS over the window) is expressed as a fraction of the range of values seen
    so far, so it is comparable across series. A shape never seen before (a new level, a new
    oscillation, a spike in a quiet stretch) is far from every stored window; a shape that
    recurs stops being novel once it has been stored. Windows overlapping the current one are
    kept out of the memory until they no longer overlap.

    Costs one pass over the memory per row (numpy): not part of the default composite.

    Args:
        window: Values per shape.
        memory: Past shapes kept (a ring).
        d_half: Distance, as a fraction of the value range, that scores 0.5.
        min_periods: Shapes stored before scoring anything but 0.

    Example:
        >>> d = NoveltyDetector(window=4, memory=200, min_periods=20)
        >>> for i in range(200):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 10)})
        >>> d.score_one({"timestamp": 200.0, "value": 0.0}) < 0.1
        True
        >>> d.score_one({"timestamp": 200.0, "value": 30.0}) > 0.5
        True
    """

    name = "novelty"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "window": IntParam(3, 24, log=True),
        "memory": IntParam(200, 4000, log=True),
        "d_half": FloatParam(0.01, 1.0, log=True),
    }

    def __init__(
        self, window: int = 6, memory: int = 2000, d_half: float = 0.1, min_periods: int = 100
    ) -> None:
        self.window = window
        self.memory = memory
        self.d_half = d_half
        self.min_periods = min_periods
        self._recent: deque[float] = deque(maxlen=window)
        self._mem = np.zeros((memory, window))
        self._count = 0
        self._pending: deque[list[float]] = deque()
        self._lo = math.inf
        self._hi = -math.inf

    def _shape(self, v: float) -> npt.NDArray[np.float64] | None:
        if len(self._recent) < self.window - 1:
            return None
        vals = list(self._recent)[len(self._recent) - (self.window - 1) :]
        vals.append(v)
        return np.asarray(vals, dtype=np.float64)

    def _dist(self, v: float) -> float:
        if self._count < self.min_periods:
            return 0.0
        q = self._shape(v)
        if q is None:
            return 0.0
        n = min(self._count, self.memory)
        span = self._hi - self._lo
        if span <= 0.0:
            span = max(abs(self._hi), 1.0) * 1e-3
        d = float(np.sqrt(((self._mem[:n] - q) ** 2).mean(axis=1).min()))
        return d / span

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        self._recent.append(v)
        self._lo = min(self._lo, v)
        self._hi = max(self._hi, v)
        if len(self._recent) == self.window:
            self._pending.append(list(self._recent))
            if len(self._pending) > self.window:
                self._mem[self._count % self.memory] = self._pending.popleft()
                self._count += 1

    def score_one(self, x: Observation) -> float:
        return squash(self._dist(float(x["value"])), self.d_half)

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        d = self._dist(v)
        return Verdict(
            squash(d, self.d_half),
            {
                "value": v,
                "distance_fraction_of_range": d,
                "range": [self._lo, self._hi],
                "d_half": self.d_half,
                "shapes_stored": min(self._count, self.memory),
                "rule": "score = d / (d + d_half), d = nearest past shape RMS / value range",
            },
        )
