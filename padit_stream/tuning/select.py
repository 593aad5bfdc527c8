"""Choosing among the trials, and what the choice is worth on data it has not seen.

The pool is the current configuration plus every trial. The final choice is the best on all
labelled cells. Its out-of-sample worth is estimated by nested selection over the folds:
for each fold, the best on the training cells is scored on the test cells, and the test
cells' outcomes are pooled (every cell is a test cell exactly once). The spread is the
standard deviation over folds of the per-fold gain against the current configuration.

The trials were proposed by a sampler that saw all labelled cells, so the estimate is not
fully nested (that would need one study per fold); it does keep the final selection from
having seen the cells it is scored on.

Bootstrap confidence intervals resample series (with replacement, seeded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from padit_stream.evaluation.nab import Profile
from padit_stream.tuning.cv import Fold, normalised
from padit_stream.tuning.search import Trial

__all__ = ["CrossValidation", "Interval", "best", "bootstrap", "cross_validate"]

FloatArray = npt.NDArray[np.float64]


def _score(
    raw: FloatArray, windows: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_], profile: Profile
) -> float:
    return normalised(float(raw[mask].sum()), int(windows[mask].sum()), profile)


def best(pool: Sequence[Trial], mask: npt.NDArray[np.bool_] | None, profile: Profile) -> Trial:
    """The trial with the best score on ``mask``'s cells (all cells when None); ties: earliest."""

    def value(t: Trial) -> float:
        m = np.ones_like(t.table.windows, dtype=bool) if mask is None else mask
        v = _score(t.table.raw, t.table.windows, m, profile)
        return -np.inf if np.isnan(v) else v

    return max(pool, key=lambda t: (value(t), -t.number))


@dataclass(frozen=True)
class CrossValidation:
    """Nested selection over folds: pooled out-of-fold scores and per-fold gains."""

    before: float
    after: float
    fold_gain: list[float]
    fold_choice: list[str]
    #: Per (series, block): raw score of the configuration each cell's fold chose.
    oof_raw: FloatArray

    @property
    def spread(self) -> float:
        gains = [g for g in self.fold_gain if not np.isnan(g)]
        return float(np.std(gains, ddof=1)) if len(gains) > 1 else float("nan")

    @property
    def mean_gain(self) -> float:
        gains = [g for g in self.fold_gain if not np.isnan(g)]
        return float(np.mean(gains)) if gains else float("nan")


def cross_validate(
    current: Trial, trials: Sequence[Trial], folds: Sequence[Fold], profile: Profile
) -> CrossValidation:
    pool = [current, *trials]
    windows = current.table.windows
    oof = np.zeros_like(current.table.raw)
    gains: list[float] = []
    choices: list[str] = []
    for fold in folds:
        chosen = best(pool, fold.train, profile)
        oof[fold.test] = chosen.table.raw[fold.test]
        after = _score(chosen.table.raw, windows, fold.test, profile)
        before = _score(current.table.raw, windows, fold.test, profile)
        gains.append(after - before)
        choices.append("current" if chosen.candidate is None else chosen.candidate.detector)
    everything = np.ones_like(windows, dtype=bool)
    return CrossValidation(
        before=_score(current.table.raw, windows, everything, profile),
        after=_score(oof, windows, everything, profile),
        fold_gain=gains,
        fold_choice=choices,
        oof_raw=oof,
    )


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap percentile interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:6.2f} [{self.low:6.2f}, {self.high:6.2f}]"


def bootstrap(
    raw_before: FloatArray,
    raw_after: FloatArray,
    windows: npt.NDArray[np.int64],
    profile: Profile,
    seed: int,
    resamples: int = 1000,
    level: float = 0.95,
) -> tuple[Interval, Interval, Interval]:
    """Before, after and gain, each with a percentile interval over series resamples.

    Arguments are per series (rows) and may have a block axis, which is summed.
    """
    rb = raw_before.reshape(len(raw_before), -1).sum(axis=1)
    ra = raw_after.reshape(len(raw_after), -1).sum(axis=1)
    w = windows.reshape(len(windows), -1).sum(axis=1)

    def norm(raw: FloatArray, win: npt.NDArray[np.int64]) -> FloatArray:
        null = -profile.fn * win
        span = profile.tp * win - null
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(span > 0, 100.0 * (raw - null) / np.where(span > 0, span, 1), np.nan)

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(rb), size=(resamples, len(rb)))
    wb = w[idx].sum(axis=1)
    b = norm(rb[idx].sum(axis=1), wb)
    a = norm(ra[idx].sum(axis=1), wb)
    tail = (1.0 - level) / 2.0 * 100.0

    def interval(point: float, samples: FloatArray) -> Interval:
        s = samples[~np.isnan(samples)]
        if s.size == 0:
            return Interval(point, float("nan"), float("nan"))
        lo, hi = np.percentile(s, [tail, 100.0 - tail])
        return Interval(point, float(lo), float(hi))

    pb = float(norm(np.array([rb.sum()]), np.array([w.sum()]))[0])
    pa = float(norm(np.array([ra.sum()]), np.array([w.sum()]))[0])
    return interval(pb, b), interval(pa, a), interval(pa - pb, a - b)
