"""``padit eval nab --cv`` and ``--sweep``: cross-validated figures and their sensitivity.

``--cv`` runs every configuration of the grid (``--grid PARAM=v1,v2``, repeatable; none: the
configured detector alone) over the corpus once, then, leaving one category out at a time,
chooses the configuration and threshold on the others and scores the held-out one
(:mod:`padit_stream.evaluation.crossval`). It prints the pooled scores of the three profiles,
a table per held-out category and, for comparison, the in-sample figure (chosen on all files).

``--sweep PARAM=v1,v2,...`` does the same once per value of ``PARAM`` (the grid, if any, is
still chosen inside each fold) and prints how the pooled figures move.

Examples::

    padit eval nab --cv
    padit eval nab --cv --grid alarm_ratio=0.9,1.2,1.5
    padit eval nab --sweep holdoff=75,100,125
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from padit_stream.detectors.config import DetectionConfig, load_detection_config
from padit_stream.evaluation.backtest import run_corpus
from padit_stream.evaluation.crossval import (
    Corpus,
    CrossValidation,
    choose,
    cross_validate,
)
from padit_stream.evaluation.grid import expand, label, parse_assignment, with_params
from padit_stream.evaluation.nab import Profile, load_windows, prepare_file, score_corpus

__all__ = ["add_cv_arguments", "run_cv"]

_SHORT = {"standard": "standard", "reward_low_FP_rate": "low FP", "reward_low_FN_rate": "low FN"}


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def add_cv_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--cv``, ``--grid`` and ``--sweep`` options of ``padit eval nab``."""
    parser.add_argument("--cv", action="store_true",
                        help="leave-one-category-out: choose on the other categories, score "
                             "the held-out one")  # fmt: skip
    parser.add_argument("--grid", action="append", default=[], metavar="PARAM=v1,v2,...",
                        help="with --cv: configurations to choose among inside each fold "
                             "(component.param for the composite's parts; repeatable)")  # fmt: skip
    parser.add_argument("--sweep", default=None, metavar="PARAM=v1,v2,...",
                        help="cross-validated figures for each value of PARAM")  # fmt: skip


def _configs(args: argparse.Namespace) -> dict[str, tuple[dict[str, Any], DetectionConfig]]:
    """Every configuration to run, by label: the sweep's values times the grid's."""
    base = load_detection_config(args.config) if args.config else DetectionConfig()
    spec = base.default
    if args.detector is not None:
        spec = spec.model_copy(update={"detector": args.detector, "params": {}})
    grid = [parse_assignment(g) for g in args.grid]
    sweep = [parse_assignment(args.sweep)] if args.sweep else []
    out: dict[str, tuple[dict[str, Any], DetectionConfig]] = {}
    for assignment in expand(sweep + grid):
        config = base.model_copy(update={"default": with_params(spec, assignment)})
        out[label(assignment)] = (assignment, config)
    return out


def _run_all(
    args: argparse.Namespace, configs: Mapping[str, tuple[dict[str, Any], DetectionConfig]]
) -> dict[str, Corpus]:
    windows = load_windows(args.labels)
    runs: dict[str, Corpus] = {}
    for k, (name, (_, config)) in enumerate(configs.items(), 1):
        started = time.perf_counter()
        corpus = run_corpus(args.data, config, None, args.processes)
        runs[name] = {
            n: (prepare_file(n, r.timestamps, r.values, windows.get(n, [])), r.scores)
            for n, r in corpus.items()
        }
        sys.stderr.write(
            f"[{k}/{len(configs)}] {name}: {len(corpus)} files in "
            f"{time.perf_counter() - started:.1f} s\n"
        )
    return runs


def _fmt(x: float | None) -> str:
    return f"{x:7.2f}" if x is not None else "    n/a"


def _report_cv(cv: CrossValidation, profiles: Mapping[str, Profile], grid: bool) -> None:
    names = list(profiles)
    head = " ".join(f"{_SHORT.get(p, p):>8}" for p in names)
    _out(f"{'held-out category':26s} {'files':>5} {'win':>4} {head} {'tp':>3} {'fn':>3} "
         f"{'fp':>4}  threshold (standard){'  chosen' if grid else ''}")  # fmt: skip
    for fold in cv.folds:
        std = names[0]
        s = fold.scores[std]
        files = fold.files[std]
        cols = " ".join(f"{_fmt(fold.scores[p].normalised):>8}" for p in names)
        choice = fold.choices[std]
        chosen = f"  {choice.config}" if grid else ""
        _out(f"{fold.held_out:26s} {len(files):5d} {sum(f.n_windows for f in files):4d} {cols} "
             f"{s.tp:3d} {s.fn:3d} {s.fp:4d}  {choice.threshold:.6g}{chosen}")  # fmt: skip
    pooled = cv.pooled[names[0]]
    cols = " ".join(f"{_fmt(cv.pooled[p].normalised):>8}" for p in names)
    _out(f"{'pooled (CV)':26s} {'':5} {'':4} {cols} {pooled.tp:3d} {pooled.fn:3d} {pooled.fp:4d}")


def _in_sample(runs: Mapping[str, Corpus], profiles: Mapping[str, Profile]) -> dict[str, float]:
    return {p: choose(runs, prof).train_score for p, prof in profiles.items()}


def run_cv(args: argparse.Namespace, profiles: Mapping[str, Profile]) -> int:
    """Run the configurations, cross-validate, print (and save ``cv.json`` under ``--out``)."""
    started = time.perf_counter()
    configs = _configs(args)
    runs = _run_all(args, configs)
    names = list(profiles)
    head = " / ".join(_SHORT.get(p, p) for p in names)
    summary: dict[str, Any] = {}
    if args.sweep:
        param, values = parse_assignment(args.sweep)
        _out(f"sweep of {param} (CV and in-sample: {head})")
        for value in values:
            subset = {
                n: runs[n] for n, (assignment, _) in configs.items() if assignment[param] == value
            }
            cv = cross_validate(subset, profiles)
            cv_scores = [cv.pooled[p].normalised for p in names]
            ins = _in_sample(subset, profiles)
            _out(f"  {param}={value!s:10} CV " + " / ".join(_fmt(x).strip() for x in cv_scores)
                 + "   in-sample " + " / ".join(f"{ins[p]:.2f}" for p in names))  # fmt: skip
            summary[f"{param}={value}"] = {"cv": dict(zip(names, cv_scores, strict=True)),
                                           "in_sample": ins}  # fmt: skip
    else:
        cv = cross_validate(runs, profiles)
        _report_cv(cv, profiles, grid=len(runs) > 1)
        ins = _in_sample(runs, profiles)
        _out(f"{'in-sample (all files)':26s} {'':5} {'':4} "
             + " ".join(f"{ins[p]:8.2f}" for p in names))  # fmt: skip
        if len(runs) > 1:
            best = {p: choose(runs, prof).config for p, prof in profiles.items()}
            _out(f"in-sample choice (standard): {best[names[0]]}")
        summary = {
            "cv": {p: cv.pooled[p].normalised for p in names},
            "in_sample": ins,
            "folds": {
                f.held_out: {
                    p: {"score": f.scores[p].normalised, "threshold": f.choices[p].threshold,
                        "config": f.choices[p].config}
                    for p in names
                }
                for f in cv.folds
            },
        }  # fmt: skip
        for label_, corpus in runs.items():
            summary.setdefault("configs", {})[label_] = {
                p: score_corpus(corpus, prof).normalised for p, prof in profiles.items()
            }
    _out(f"\n{len(configs)} configuration(s) x {len(next(iter(runs.values())))} files in "
         f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / ("sweep.json" if args.sweep else "cv.json")).write_text(
        json.dumps(summary, indent=1)
    )
    return 0
