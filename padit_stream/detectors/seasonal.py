"""Seasonal baseline: the value against what it usually is at the same time of day (or week)."""

from __future__ import annotations

import math
from typing import ClassVar

from padit_stream.detectors._stats import EwStats, squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.space import FloatParam, Param
from padit_stream.detectors.statistical import scale_floor

__all__ = ["SeasonalDetector", "WeeklySeasonalDetector"]


class SeasonalDetector(Detector):
    """Residual of the value against an EW mean of the same phase of the period.

    The phase bin is ``(timestamp mod period) // step``, where ``step`` is the series cadence
    learned from the first timestamps. Each bin keeps an EW mean of its values; the residual
    ``value - bin mean`` is standardised by EW statistics of past residuals. Each bin's update
    is clipped to ``clip`` residual standard deviations, so a one-off spike does not shift the
    baseline of its time of day and come back as a false alarm a period later. The evidence
    reports how much of the variance the season explains (``residual_var / value_var``), so a
    reader can tell a meaningful seasonal verdict from one on a series without a season.

    Args:
        period: Season length in seconds (86400: daily; 604800: weekly).
        alpha_bin: Smoothing of each bin's mean (one update per period).
        alpha: Smoothing of the residual and value statistics.
        min_periods: Residuals to learn before scoring anything but 0.
        z_half: Residual z that scores 0.5.
        min_explained: Fraction of the variance the season must explain before the detector
            scores anything but 0 (0: always score).
        clip: Largest bin update, in residual standard deviations (0: no clipping).

    Example:
        >>> d = SeasonalDetector(period=10.0, min_periods=5)
        >>> for i in range(100):
        ...     d.learn_one({"timestamp": float(i), "value": float(i % 10)})
        >>> d.score_one({"timestamp": 100.0, "value": 0.0}) < 0.1
        True
        >>> d.score_one({"timestamp": 100.0, "value": 9.0}) > 0.5
        True
    """

    name = "seasonal"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "alpha_bin": FloatParam(0.05, 0.8),
        "alpha": FloatParam(0.0005, 0.02, log=True),
        "z_half": FloatParam(2.0, 20.0, log=True),
        "min_explained": FloatParam(0.0, 0.9),
        "clip": FloatParam(0.0, 10.0),
    }

    def __init__(
        self,
        period: float = 86400.0,
        alpha_bin: float = 0.3,
        alpha: float = 0.002,
        min_periods: int = 64,
        z_half: float = 6.0,
        min_explained: float = 0.0,
        clip: float = 4.0,
    ) -> None:
        self.min_explained = min_explained
        self.clip = clip
        self.period = period
        self.alpha_bin = alpha_bin
        self.alpha = alpha
        self.min_periods = min_periods
        self.z_half = z_half
        self._bins: dict[int, float] = {}
        self._step = 0.0
        self._first_t: float | None = None
        self._gaps: list[float] = []
        self._last_t: float | None = None
        self._resid = EwStats(alpha)
        self._values = EwStats(alpha)

    def _bin(self, t: float) -> int:
        return int((t % self.period) // self._step)

    def _resid_of(self, t: float, v: float) -> float | None:
        if self._step <= 0.0:
            return None
        base = self._bins.get(self._bin(t))
        return None if base is None else v - base

    def _z(self, t: float, v: float) -> tuple[float, float | None]:
        r = self._resid_of(t, v)
        s = self._resid
        if r is None or s.n < self.min_periods:
            return 0.0, r
        if self.min_explained > 0.0 and s.var > (1.0 - self.min_explained) * self._values.var:
            return 0.0, r
        return abs(r - s.mean) / scale_floor(s.std, self._values.mean), r

    def learn_one(self, x: Observation) -> None:
        t = float(x["timestamp"])
        v = float(x["value"])
        if self._step <= 0.0:
            # The cadence: the median of the first gaps, so one missing row does not skew it.
            if self._last_t is not None and t > self._last_t:
                self._gaps.append(t - self._last_t)
            self._last_t = t
            if len(self._gaps) >= 9:
                self._step = sorted(self._gaps)[len(self._gaps) // 2]
                self._gaps = []
            else:
                return
        r = self._resid_of(t, v)
        if r is not None:
            self._resid.update(r)
        self._values.update(v)
        key = self._bin(t)
        old = self._bins.get(key)
        if old is None:
            self._bins[key] = v
            return
        d = v - old
        if self.clip > 0.0:
            # Until enough residuals are in, the spread of the values bounds theirs.
            s = self._resid if self._resid.n >= self.min_periods else self._values
            lim = self.clip * s.std
            if s.n >= 2 and lim > 0.0:
                d = -lim if d < -lim else (lim if d > lim else d)
        self._bins[key] = old + self.alpha_bin * d

    def score_one(self, x: Observation) -> float:
        return squash(self._z(float(x["timestamp"]), float(x["value"]))[0], self.z_half)

    def explain_one(self, x: Observation) -> Verdict:
        t = float(x["timestamp"])
        v = float(x["value"])
        z, r = self._z(t, v)
        var_v = self._values.var
        explained = self._resid.var / var_v if var_v > 0.0 else math.nan
        return Verdict(
            squash(z, self.z_half),
            {
                "value": v,
                "seasonal_baseline": None if r is None else v - r,
                "residual": r,
                "residual_std": self._resid.std,
                "residual_var_ratio": explained,
                "z": z,
                "z_half": self.z_half,
                "period_s": self.period,
                "rule": "score = z / (z + z_half), z = |residual - mean| / residual std",
            },
        )


class WeeklySeasonalDetector(SeasonalDetector):
    """:class:`SeasonalDetector` with a weekly period (same hour of the same weekday).

    Example:
        >>> WeeklySeasonalDetector().period
        604800.0
    """

    name = "seasonal_weekly"

    def __init__(
        self,
        period: float = 604800.0,
        alpha_bin: float = 0.3,
        alpha: float = 0.002,
        min_periods: int = 64,
        z_half: float = 6.0,
        min_explained: float = 0.0,
        clip: float = 4.0,
    ) -> None:
        super().__init__(period, alpha_bin, alpha, min_periods, z_half, min_explained, clip)
