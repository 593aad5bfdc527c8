"""Flat lines: a value repeated for longer than this series has ever repeated one (a frozen
counter, a stuck probe, an exporter serving its last sample).

Measured with ``padit eval nab --cv`` (standard / low FP / low FN): inside the composite,
calibrated by its record, 66.83 / 59.63 / 71.22 on NAB, the same as without it; used as is
(``uncalibrated``) 58.41, since NAB's square waves and flat synthetic files repeat values by
design. On the synthetic telemetry (seed 1) calibrated: 66.74 / 60.70 / 67.48 against 67.96 /
60.70 / 63.19 without it (more frozen-probe windows found, more false positives). Meant for
metrics configured with it, not part of the default composite.
"""

from __future__ import annotations

from typing import ClassVar

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import FloatParam, IntParam, Param

__all__ = ["FlatlineDetector"]


class FlatlineDetector(Detector):
    """The current run of equal values against the longest run seen before.

    A row continues the run when it differs from the previous value by at most
    ``tolerance``. The statistic is ``run / max(longest, min_run)``: above 1 the series has
    never stayed this flat, whatever its own habits (a counter that often sits at zero for an
    hour has a long record; a noisy gauge has a record of 1 and ``min_run`` guards it).

    Args:
        tolerance: Largest change that still counts as the same value.
        min_run: Floor of the record, in rows.
        half: Excess over the record (``ratio - 1``) that scores 0.5.
        min_periods: Rows to learn before scoring anything but 0.

    Example:
        >>> d = FlatlineDetector(min_periods=10)
        >>> for i in range(200):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 7)})
        >>> for i in range(200, 212):
        ...     d.learn_one({"timestamp": float(i), "value": 3.0})
        >>> d.score_one({"timestamp": 212.0, "value": 3.0}) > 0.5
        True
        >>> d.score_one({"timestamp": 212.0, "value": 4.0})
        0.0
    """

    name = "flatline"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "min_run": IntParam(3, 64, log=True),
        "half": FloatParam(0.1, 2.0, log=True),
    }

    def __init__(
        self, tolerance: float = 0.0, min_run: int = 8, half: float = 0.5, min_periods: int = 32
    ) -> None:
        self.tolerance = tolerance
        self.half = half
        self.min_run = min_run
        self.min_periods = min_periods
        self._last = 0.0
        self._run = 0  # rows in the current run, the last one included
        self._longest = 0  # longest run that has ended
        self._n = 0

    def _run_with(self, v: float) -> int:
        if self._n and abs(v - self._last) <= self.tolerance:
            return self._run + 1
        return 1

    def _ratio(self, v: float) -> tuple[float, int]:
        run = self._run_with(v)
        if self._n < self.min_periods:
            return 0.0, run
        record = max(self._longest, self.min_run)
        return run / record, run

    def learn_one(self, x: Observation) -> None:
        v = float(x["value"])
        run = self._run_with(v)
        if run == 1 and self._run > self._longest:
            self._longest = self._run
        self._run = run
        self._last = v
        self._n += 1

    def score_one(self, x: Observation) -> float:
        ratio, _ = self._ratio(float(x["value"]))
        return squash(ratio - 1.0, self.half) if ratio > 1.0 else 0.0

    def explain_one(self, x: Observation) -> Verdict:
        v = float(x["value"])
        ratio, run = self._ratio(v)
        return Verdict(
            squash(ratio - 1.0, self.half) if ratio > 1.0 else 0.0,
            {
                "value": v,
                "run": run,
                "longest_run": max(self._longest, self.min_run),
                "rule": "score = e / (e + half), e = run / longest run before - 1 (when above)",
            },
        )
