"""The default detector: several single-statistic detectors, calibrated per series, combined.

What each part does and why
---------------------------
* ``range`` (the value beyond the all-time min/max, in fractions of that range): the plainest
  operational anomaly, a value never seen before. Already comparable across series (it is a
  fraction of the series' own range), so it is used as is (``uncalibrated``); 1% of the range
  scores as much as a component at its record. This is Numenta's "spatial anomaly" bypass.
* ``robust_z`` (median/MAD of the last 1000 values): spikes against the recent normal, even
  when they stay inside the all-time range; median and MAD ignore the outliers they look for.
* ``level_shift`` (median of the last 12 values against the median/MAD of the 1000 before): a
  level that moves and stays, which a point detector sees only at its first row. The median,
  not the mean: a lone spike moves a 12-row mean by 1/12 of its height, and on a spiky series
  those pushes set the record a real shift is later compared with (on NAB, with the mean, the
  shifts of rds_cpu_utilization_e47b3b and ec2_cpu_utilization_24ae8d stayed below records set
  by spikes; standard score 65.25 with the mean, 67.8 with the median).
* ``seasonal`` (value against the EW mean of the same time of day): a value normal for the
  series but not for the hour (traffic at night, a missing daily batch). Bin updates are
  clipped so a spike does not come back as an alarm at the same time the next day.
* ``ewma`` (EWMA control chart) and ``cusum`` (two-sided CUSUM): small sustained drifts that
  no single row reveals.

Raw statistics are not comparable across series (a bursty counter has z-scores of 10 every
day; a temperature never does), and one alert threshold must fit every metric. So each
component's statistic is **calibrated against its own history on this series**:

* ``calibration="record"`` (default): the statistic divided by the largest value it has taken
  so far, that maximum decaying by ``decay`` per row (half-life ~7000 rows at 0.9999) and
  floored at ``odds_floor`` (in units of the component's half-score statistic). A ratio above 1
  means "more extreme than anything seen recently on this series". The composite reports the
  largest ratio over the components, mapped to [0, 1) by ``r / (1 + r)`` (so 0.5 is a tie
  with the record). This is the idea of Numenta's anomaly likelihood (how unusual is this
  *for this series*) with a distribution-free reference, the recent maximum, which did much
  better than a normal fit on these heavy-tailed statistics in the NAB backtest.
* ``calibration="likelihood"``: Numenta's ``AnomalyLikelihood`` per component (a short
  moving average of the raw score, its tail probability under a normal fitted to the long
  history; see :mod:`padit_stream.detectors.likelihood`); the largest surprise wins.

After an alarm (the combined ratio at least ``alarm_ratio``) the next ``holdoff`` rows belong
to the same event: their ratio is divided by the event's peak ratio (times ``damp``, 1 by
default), so only a row beyond the event's own peak alarms again (and restarts the hold-off).
This is the record rule applied within an event; reporting the same event again only adds
false positives. Unlike a fixed damping factor it does not make the score depend sharply on
``alarm_ratio`` (NAB standard 67.3-68.5 for ``alarm_ratio`` 0.9-1.5; a fixed factor 0.2 gave
57-68 over the same range, because sub-threshold "alarms" then muted real anomalies).

Measured on the 35 NAB files (``python -m padit_stream.evaluation nab``, profiles standard /
reward-low-FP / reward-low-FN): default 67.78 / 60.39 / 72.46; with
``calibration="likelihood"`` 56.78 / 52.38 / 60.88 (HTM's published figures on the same files:
66.59 / 60.81 / 71.06). The parameters were chosen on those 35 files (no labels inside the
detector, one configuration for all files), so expect somewhat less on unseen series:
leave-one-category-out (``padit eval nab --cv``, the threshold chosen without the held-out
category) gives 66.83 / 59.63 / 71.22. Adding ``art`` or ``count`` lowered that figure;
adding ``context`` raised it at its defaults but not over +-25% of its parameters;
``value_type="auto"`` moved it by 0.1 and cost 2.8 points on synthetic telemetry (see each
module for the figures).

Known limitation: ``range`` flags a record of plain noise too. On white noise the all-time
maximum or minimum is beaten with probability about 2/n at row n, by a few percent of the
range, which scores 0.8-0.9; such isolated alarms thin out as the series ages (about
2 ln 2 = 1.4 between rows n and 2n). Measuring the excess in noise units (median absolute
difference) instead of range units silences them but cost 2.3 points on NAB (one taxi-demand
window and a later detection on an EC2 CPU file), so the range rule is kept as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from padit_stream.detectors._stats import squash
from padit_stream.detectors.base import Detector, Observation, Verdict
from padit_stream.detectors.likelihood import AnomalyLikelihood
from padit_stream.detectors.registry import BASE_DETECTORS
from padit_stream.detectors.space import CategoricalParam, FloatParam, IntParam, Param
from padit_stream.detectors.valuetype import VALUE_TYPES, infer_value_type, stabilise

__all__ = ["DEFAULT_COMPONENTS", "DEFAULT_UNCALIBRATED", "CompositeDetector"]

DEFAULT_COMPONENTS: tuple[str, ...] = (
    "range",
    "robust_z",
    "level_shift",
    "seasonal",
    "ewma",
    "cusum",
)
#: Components whose score is already comparable across series (used as is, not calibrated).
DEFAULT_UNCALIBRATED: tuple[str, ...] = ("range",)
_CALIBRATIONS = ("record", "likelihood")


def _odds(score: float) -> float:
    """Invert a component's ``s = stat / (stat + half)``: ``stat / half``."""
    return score / (1.0 - score) if score < 1.0 else 1e12


class CompositeDetector(Detector):
    """Per-series calibrated combination of several detectors (see the module doc).

    Args:
        components: Names of the detectors combined (``BASE_DETECTORS`` keys).
        component_params: Constructor arguments per component name.
        calibration: ``"record"`` or ``"likelihood"``.
        learning_period: Rows learned before any score but 0.
        decay: Per-row decay of each component's running maximum (record calibration).
        odds_floor: Floor of the running maximum, in half-score units of the statistic.
        alarm_ratio: Combined ratio that counts as an alarm and starts the hold-off.
        holdoff: Rows after an alarm during which the ratio is taken against the alarm's peak.
        damp: Extra factor applied to the output during the hold-off.
        averaging_window: Raw scores averaged by the likelihood calibration.
        likelihood_alpha: Smoothing of the likelihood's long-horizon statistics.
        min_std: Floor of the likelihood's standard deviation.
        surprise_half: Surprise (nats) scoring 0.5 under the likelihood calibration.
        uncalibrated: Components whose score is used as is.
        value_type: ``continuous``, ``count`` or ``bounded`` (the components see the value
            through :func:`~padit_stream.detectors.valuetype.stabilise`), or ``auto``: found
            from the learning period's values (which wait until then).

    Example:
        >>> d = CompositeDetector(learning_period=50)
        >>> for i in range(400):
        ...     d.learn_one({"timestamp": 300.0 * i, "value": 10.0 + (i % 7) * 0.1})
        >>> quiet = d.score_one({"timestamp": 120000.0, "value": 10.3})
        >>> spike = d.score_one({"timestamp": 120000.0, "value": 60.0})
        >>> quiet < 0.5 < spike
        True
        >>> why = d.explain_one({"timestamp": 120000.0, "value": 60.0}).evidence
        >>> why["dominant"] in d.components
        True
    """

    name = "composite"
    #: Tunable arguments and their ranges (``padit tune`` searches these).
    search_space: ClassVar[dict[str, Param]] = {
        "calibration": CategoricalParam(_CALIBRATIONS),
        "learning_period": IntParam(50, 1000, log=True),
        "decay": FloatParam(0.999, 0.99999),
        "odds_floor": FloatParam(0.05, 2.0, log=True),
        "alarm_ratio": FloatParam(0.8, 3.0),
        "holdoff": IntParam(0, 500),
    }

    def __init__(
        self,
        components: Sequence[str] = DEFAULT_COMPONENTS,
        component_params: Mapping[str, Mapping[str, Any]] | None = None,
        calibration: str = "record",
        learning_period: int = 300,
        decay: float = 0.9999,
        odds_floor: float = 0.2,
        alarm_ratio: float = 1.2,
        holdoff: int = 100,
        damp: float = 1.0,
        averaging_window: int = 10,
        likelihood_alpha: float = 1.0 / 2000.0,
        min_std: float = 0.01,
        surprise_half: float = 11.5,
        uncalibrated: Sequence[str] = DEFAULT_UNCALIBRATED,
        value_type: str = "continuous",
    ) -> None:
        if value_type not in (*VALUE_TYPES, "auto"):
            raise ValueError(
                f"value_type must be one of {(*VALUE_TYPES, 'auto')}, got {value_type!r}"
            )
        self.value_type = value_type
        # ``auto``: the learning period's rows wait here until the type is known.
        self._warm: list[Observation] | None = [] if value_type == "auto" else None
        self._kind = "continuous" if value_type == "auto" else value_type
        self.uncalibrated = uncalibrated
        self._raw_only = [c in uncalibrated for c in components]
        self.components = components
        self.component_params = component_params
        self.calibration = calibration
        self.learning_period = learning_period
        self.decay = decay
        self.odds_floor = odds_floor
        self.alarm_ratio = alarm_ratio
        self.holdoff = holdoff
        self.damp = damp
        self.averaging_window = averaging_window
        self.likelihood_alpha = likelihood_alpha
        self.min_std = min_std
        self.surprise_half = surprise_half
        if calibration not in _CALIBRATIONS:
            raise ValueError(f"calibration must be one of {_CALIBRATIONS}, got {calibration!r}")
        unknown = [c for c in components if c not in BASE_DETECTORS or c == "threshold"]
        if unknown or not components:
            raise ValueError(
                f"unknown components {unknown}, expected some of "
                f"{sorted(set(BASE_DETECTORS) - {'threshold'})}"
            )
        params = component_params or {}
        self._parts: list[Detector] = [
            BASE_DETECTORS[c](**dict(params.get(c, {}))) for c in components
        ]
        self._max = [0.0] * len(components)
        # Only the likelihood calibration needs these (each holds a deque: ~0.7 KB a series).
        self._lik = (
            [
                AnomalyLikelihood(averaging_window, likelihood_alpha, learning_period, min_std)
                for _ in components
            ]
            if calibration == "likelihood"
            else []
        )
        self._n = 0
        self._quiet = 0
        # The largest combined ratio of the current event (1 outside any event).
        self._peak = 1.0
        # The raw scores of the last observation scored, reused by learn_one on the same row.
        self._cache: tuple[float, float, list[float]] | None = None

    def _raws(self, x: Observation) -> list[float]:
        t = float(x["timestamp"])
        v = float(x["value"])
        c = self._cache
        if c is not None and c[0] == t and c[1] == v:
            return c[2]
        raws = [p.score_one(x) for p in self._parts]
        self._cache = (t, v, raws)
        return raws

    def _calibrated(self, raws: list[float]) -> list[float]:
        """Per component: ratio to its running maximum, or likelihood surprise."""
        if self._n < self.learning_period:
            return [0.0] * len(raws)
        if self.calibration == "record":
            floor = self.odds_floor
            return [
                _odds(r) if raw_only else _odds(r) / (m if m > floor else floor)
                for r, m, raw_only in zip(raws, self._max, self._raw_only, strict=True)
            ]
        return [al.surprise(r) for al, r in zip(self._lik, raws, strict=True)]

    def _combined(self, raws: list[float]) -> tuple[float, list[float]]:
        cal = self._calibrated(raws)
        best = max(cal)
        if self.calibration == "likelihood":
            best = best / self.surprise_half
        return best, cal

    def _held(self, best: float) -> float:
        """The output ratio: during a hold-off, relative to the event's peak."""
        if self._quiet > 0:
            return best * self.damp / self._peak
        return best

    def _seen_as(self, x: Observation) -> Observation:
        """``x`` as the components see it: its value stabilised for the series' type."""
        if self._kind == "continuous":
            return x
        return {**x, "value": stabilise(float(x["value"]), self._kind)}

    def score_one(self, x: Observation) -> float:
        if self._warm is not None:
            return 0.0
        best, _ = self._combined(self._raws(self._seen_as(x)))
        return squash(self._held(best), 1.0)

    def learn_one(self, x: Observation) -> None:
        warm = self._warm
        if warm is None:
            self._learn(self._seen_as(x))
            return
        warm.append(x)
        if len(warm) >= self.learning_period:
            self._kind = infer_value_type([float(y["value"]) for y in warm])
            self._warm = None
            for y in warm:
                self._learn(self._seen_as(y))

    def _learn(self, x: Observation) -> None:
        raws = self._raws(x)
        best, _ = self._combined(raws)
        if self._held(best) >= self.alarm_ratio:
            # A new event, or one beyond the current event's peak: (re)start the hold-off.
            self._quiet = self.holdoff
            self._peak = max(best, 1.0)
        elif self._quiet > 0:
            self._quiet -= 1
            if self._quiet == 0:
                self._peak = 1.0
        if self.calibration == "record":
            d = self.decay
            for i, r in enumerate(raws):
                o = _odds(r)
                m = self._max[i] * d
                self._max[i] = o if o > m else m
        else:
            for al, r in zip(self._lik, raws, strict=True):
                al.update(r)
        for p in self._parts:
            p.learn_one(x)
        self._n += 1
        self._cache = None

    def explain_one(self, x: Observation) -> Verdict:
        if self._warm is not None:
            return Verdict(0.0, {"learning": True, "value_type": "auto (learning)"})
        x = self._seen_as(x)
        best, cal = self._combined(self._raws(x))
        damped = self._quiet > 0
        score = squash(self._held(best), 1.0)
        k = max(range(len(cal)), key=cal.__getitem__)
        # Every component's own evidence costs as much as scoring again: on ordinary rows give
        # the dominant one's only, and all of them once the row ties the record (score 0.5).
        explained = range(len(cal)) if score >= 0.5 or best >= self.alarm_ratio else (k,)
        return Verdict(
            score,
            {
                "dominant": self.components[k],
                "calibration": self.calibration,
                "calibrated": dict(zip(self.components, cal, strict=True)),
                "alarm_ratio": self.alarm_ratio,
                "held_off": damped,
                "learning": self._n < self.learning_period,
                "value_type": self._kind,
                "components": {
                    self.components[i]: self._parts[i].explain_one(x).evidence for i in explained
                },
                "rule": (
                    "score = r / (1 + r), r = max over components of statistic / running max"
                    if self.calibration == "record"
                    else "score = s / (s + surprise_half), s = max likelihood surprise"
                ),
            },
        )
