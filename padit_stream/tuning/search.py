"""The search: detector families and their declared parameters, sampled by optuna's TPE.

The families are the detectors with a non-empty ``search_space``. The study is seeded
(``TPESampler(seed=...)``) and runs one trial at a time, and each family's defaults are
enqueued first so the search starts from the configurations people already know; for a
given seed and number of trials the sequence of trials, and so the result, is the same.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from padit_stream.detectors.base import Detector
from padit_stream.detectors.config import DETECTORS, DetectionConfig, DetectorSpec
from padit_stream.detectors.space import CategoricalParam, FloatParam, IntParam, search_space_of
from padit_stream.evaluation.nab import Profile
from padit_stream.tuning.cv import normalised
from padit_stream.tuning.evaluate import CellTable, Evaluator
from padit_stream.tuning.history import TuneError

__all__ = ["Candidate", "Trial", "config_with", "families", "search"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """One detector and its constructor arguments."""

    detector: str
    params: Mapping[str, Any]

    def spec(self) -> DetectorSpec:
        return DetectorSpec(detector=self.detector, params=dict(self.params))

    def key(self) -> str:
        return json.dumps([self.detector, dict(self.params)], sort_keys=True)

    def describe(self) -> str:
        args = ", ".join(f"{k}={_short(v)}" for k, v in sorted(self.params.items()))
        return f"{self.detector}({args})"


def _short(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else str(v)


@dataclass(frozen=True)
class Trial:
    """One evaluated candidate (``number`` -1: the current configuration)."""

    number: int
    candidate: Candidate | None
    table: CellTable
    objective: float
    seconds: float


def families(names: Sequence[str] | None = None) -> dict[str, type[Detector]]:
    """Tunable detector classes by name (all with a declared space, or those named)."""
    tunable = {n: cls for n, cls in sorted(DETECTORS.items()) if search_space_of(cls)}
    if not names:
        return tunable
    unknown = sorted(set(names) - set(tunable))
    if unknown:
        raise TuneError(
            f"--family {unknown}: not tunable detectors, expected some of {sorted(tunable)}"
        )
    return {n: tunable[n] for n in sorted(set(names))}


def config_with(
    base: DetectionConfig, metric_names: Sequence[str], candidate: Candidate
) -> DetectionConfig:
    """``base`` with ``candidate`` for each of ``metric_names``."""
    spec = candidate.spec()
    metrics = {**base.metrics, **dict.fromkeys(metric_names, spec)}
    return base.model_copy(update={"metrics": metrics})


def _suggest(trial: optuna.Trial, fams: Mapping[str, type[Detector]]) -> Candidate:
    family = str(trial.suggest_categorical("detector", list(fams)))
    params: dict[str, Any] = {}
    for name, p in search_space_of(fams[family]).items():
        key = f"{family}.{name}"
        if isinstance(p, IntParam):
            params[name] = trial.suggest_int(key, p.low, p.high, log=p.log)
        elif isinstance(p, FloatParam):
            params[name] = trial.suggest_float(key, p.low, p.high, log=p.log)
        elif isinstance(p, CategoricalParam):
            params[name] = trial.suggest_categorical(key, list(p.choices))
    return Candidate(family, params)


def _defaults(family: str, cls: type[Detector]) -> dict[str, Any]:
    import inspect

    sig = inspect.signature(cls.__init__).parameters
    return {"detector": family} | {
        f"{family}.{name}": sig[name].default for name in search_space_of(cls)
    }


def objective_of(table: CellTable, profile: Profile) -> float:
    """Normalised NAB score over every cell."""
    return normalised(float(table.raw.sum()), int(table.windows.sum()), profile)


def search(
    evaluator: Evaluator,
    base: DetectionConfig,
    metric_names: Sequence[str],
    fams: Mapping[str, type[Detector]],
    *,
    seed: int,
    n_trials: int | None,
    timeout: float | None,
    on_trial: Callable[[Trial, Trial], None] | None = None,
) -> list[Trial]:
    """Run the study; returns the trials in order (repeated candidates are not re-run)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    # The default detector first: it is what the site runs unless told otherwise.
    order = sorted(fams, key=lambda n: (n != "composite", n))
    for family in order:
        study.enqueue_trial(_defaults(family, fams[family]))
    trials: list[Trial] = []
    cache: dict[str, CellTable] = {}
    profile = evaluator.profile

    def run(trial: optuna.Trial) -> float:
        started = time.perf_counter()
        cand = _suggest(trial, fams)
        table = cache.get(cand.key())
        if table is None:
            table, _ = evaluator.evaluate(config_with(base, metric_names, cand))
            cache[cand.key()] = table
        value = objective_of(table, profile)
        done = Trial(trial.number, cand, table, value, time.perf_counter() - started)
        trials.append(done)
        if on_trial is not None:
            on_trial(done, max(trials, key=lambda t: (t.objective, -t.number)))
        return value

    study.optimize(run, n_trials=n_trials, timeout=timeout, gc_after_trial=False)
    return trials
