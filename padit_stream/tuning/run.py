"""One tuning run: split, search, choose, cross-validate, measure, write the fragment.

:func:`tune` takes loaded series and label windows (from a NAB directory or the metrics
topic, see the CLI) and returns everything the report shows; nothing here prints.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from padit_stream.detectors.config import DetectionConfig, DetectorSpec
from padit_stream.evaluation.nab import Profile, score_corpus
from padit_stream.tuning.cv import make_folds
from padit_stream.tuning.evaluate import Evaluator
from padit_stream.tuning.history import Selector, Series, TuneError
from padit_stream.tuning.output import SeriesRow, fragment_yaml, plot_extremes, series_rows
from padit_stream.tuning.search import Trial, config_with, families, objective_of, search
from padit_stream.tuning.select import CrossValidation, Interval, best, bootstrap, cross_validate

__all__ = ["TuneRequest", "TuneResult", "split_holdout", "tune"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
Windows = Mapping[str, Sequence[tuple[float, float]]]


@dataclass(frozen=True)
class TuneRequest:
    """What to tune and how; ``windows`` holds the labelled series (by name) only."""

    series: Sequence[Series]
    windows: Windows
    base: DetectionConfig
    selector: Selector
    profile: Profile
    threshold: float
    seed: int = 0
    trials: int | None = 40
    seconds: float | None = None
    family_names: Sequence[str] = ()
    folds: int = 3
    blocks: int = 2
    holdout: float = 0.0
    processes: int | None = None
    out_dir: Path | None = None


@dataclass
class TuneResult:
    """The choice, its figures, and the fragment."""

    chosen: str
    fragment: str
    trials: list[Trial]
    elapsed_s: float
    cv: CrossValidation
    in_sample: tuple[Interval, Interval, Interval]
    out_of_fold: tuple[Interval, Interval, Interval]
    holdout: tuple[Interval, Interval, Interval] | None
    #: NAB's convention per part: (score, swept threshold) before and after.
    sweep: dict[str, tuple[float, float, float, float]]
    rows: list[SeriesRow]
    plots: list[Path] = field(default_factory=list)

    @property
    def trials_per_minute(self) -> float:
        return 60.0 * len(self.trials) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def figures(self) -> dict[str, Any]:
        """Everything but timings (the same for the same seed and inputs)."""

        def iv(i: Interval) -> list[float]:
            return [round(i.value, 9), round(i.low, 9), round(i.high, 9)]

        return {
            "chosen": self.chosen,
            "trials": [
                [
                    t.number,
                    t.candidate.describe() if t.candidate else "current",
                    round(t.objective, 9),
                ]
                for t in self.trials
            ],
            "cv": {
                "before": self.cv.before,
                "after": self.cv.after,
                "fold_gain": self.cv.fold_gain,
                "fold_choice": self.cv.fold_choice,
                "spread": self.cv.spread,
            },
            "in_sample": [iv(i) for i in self.in_sample],
            "out_of_fold": [iv(i) for i in self.out_of_fold],
            "holdout": [iv(i) for i in self.holdout] if self.holdout else None,
            "sweep": self.sweep,
            "series": [vars(r) for r in self.rows],
        }


def split_holdout(
    series: Sequence[Series], fraction: float, seed: int
) -> tuple[list[Series], list[Series]]:
    """(tuning, held out): ``round(fraction * n)`` of each stratum held out, seeded."""
    if not 0.0 <= fraction < 1.0:
        raise TuneError(f"--holdout {fraction}: expected a fraction in [0, 1)")
    rng = random.Random(seed)
    keep: list[Series] = []
    held: list[Series] = []
    for stratum in sorted({s.stratum for s in series}):
        members = sorted((s for s in series if s.stratum == stratum), key=lambda s: s.name)
        rng.shuffle(members)
        k = round(fraction * len(members))
        held += members[:k]
        keep += members[k:]
    return sorted(keep, key=lambda s: s.name), sorted(held, key=lambda s: s.name)


def _evaluator(req: TuneRequest, series: Sequence[Series]) -> Evaluator:
    windows = [list(req.windows.get(s.name, [])) for s in series]
    return Evaluator(series, windows, req.profile, req.threshold, req.blocks, req.processes)


def _sweep(
    ev: Evaluator, before: Sequence[FloatArray], after: Sequence[FloatArray], profile: Profile
) -> tuple[float, float, float, float]:
    """NAB's own convention (threshold swept over the part): score and threshold, both."""
    b = score_corpus({f.name: (f, s) for f, s in zip(ev.files, before, strict=True)}, profile)
    a = score_corpus({f.name: (f, s) for f, s in zip(ev.files, after, strict=True)}, profile)
    return b.normalised, b.threshold, a.normalised, a.threshold


def tune(req: TuneRequest, on_trial: Callable[[Trial, Trial], None] | None = None) -> TuneResult:
    """Search, choose and measure (see the package doc)."""
    labelled = [s for s in req.series if s.name in req.windows]
    if not labelled:
        raise TuneError("no labelled series: no label file entry or verdict names any of them")
    if sum(len(req.windows[s.name]) for s in labelled) == 0:
        raise TuneError("the labelled series have no anomaly window: nothing to score against")
    tuning, held = split_holdout(labelled, req.holdout, req.seed)
    if not any(req.windows[s.name] for s in tuning):
        raise TuneError("the tuning part has no anomaly window: lower --holdout")
    fams = families(req.family_names)
    metric_names = sorted({s.metric_name for s in req.series})
    with _evaluator(req, tuning) as ev:
        current_table, current_scores = ev.evaluate(req.base)
        current = Trial(-1, None, current_table, objective_of(current_table, req.profile), 0.0)
        started = time.perf_counter()
        trials = search(
            ev,
            req.base,
            metric_names,
            fams,
            seed=req.seed,
            n_trials=req.trials,
            timeout=req.seconds,
            on_trial=on_trial,
        )
        elapsed = time.perf_counter() - started
        final = best([current, *trials], None, req.profile)
        final_config = (
            req.base
            if final.candidate is None
            else config_with(req.base, metric_names, final.candidate)
        )
        final_scores = current_scores if final.candidate is None else ev.scores(final_config)
        folds = make_folds([s.stratum for s in tuning], req.folds, req.blocks, req.seed)
        cv = cross_validate(current, trials, folds, req.profile)
        w = current.table.windows
        in_sample = bootstrap(current.table.raw, final.table.raw, w, req.profile, req.seed)
        oof = bootstrap(current.table.raw, cv.oof_raw, w, req.profile, req.seed)
        sweep = {"tuning": _sweep(ev, current_scores, final_scores, req.profile)}
        rows = series_rows(
            "tuning", ev.files, current_scores, final_scores, req.threshold, req.profile
        )
        files = {f.name: f for f in ev.files}
        scores = {f.name: s for f, s in zip(ev.files, final_scores, strict=True)}
    holdout = None
    if held:
        with _evaluator(req, held) as hv:
            hb_table, hb_scores = hv.evaluate(req.base)
            ha_table, ha_scores = hv.evaluate(final_config)
            holdout = bootstrap(hb_table.raw, ha_table.raw, hb_table.windows, req.profile, req.seed)
            sweep["holdout"] = _sweep(hv, hb_scores, ha_scores, req.profile)
            rows += series_rows(
                "holdout", hv.files, hb_scores, ha_scores, req.threshold, req.profile
            )
            files.update({f.name: f for f in hv.files})
            scores.update({f.name: s for f, s in zip(hv.files, ha_scores, strict=True)})
    chosen = "current" if final.candidate is None else final.candidate.describe()
    specs: dict[str, DetectorSpec] = {m: final_config.spec_for(m) for m in metric_names}
    header = [
        f"padit tune: {req.selector.describe()}; profile {req.profile.name}, "
        f"threshold {req.threshold:g}, seed {req.seed}, {len(trials)} trials",
        f"chosen: {chosen}",
        f"cross-validated score {cv.before:.2f} -> {cv.after:.2f} "
        f"(gain per fold {cv.mean_gain:.2f} +- {cv.spread:.2f})",
    ]
    if req.selector.labels:
        header.append("selected by labels: these metric names apply to every series of the name")
    result = TuneResult(
        chosen,
        fragment_yaml(specs, header),
        trials,
        elapsed,
        cv,
        in_sample,
        oof,
        holdout,
        sweep,
        rows,
    )
    if req.out_dir is not None:
        result.plots = plot_extremes(rows, files, scores, req.threshold, req.out_dir)
    return result
