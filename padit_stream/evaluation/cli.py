"""``padit eval nab``: backtest a detection config on NAB and score it with NAB's rules.

Run every data file strictly online (score then learn, row by row) with the detector that
``build_detector`` gives for the file's metric, write ``<out>/<category>/<file>.csv``
(``timestamp,value,anomaly_score``), then score the corpus for the three NAB profiles and print
the scores and a per-file table. ``--score-only DIR`` scores existing results instead (files
named ``<category>/<file>.csv`` or ``<category>/<detector>_<file>.csv``).

Examples::

    python -m padit_stream.evaluation nab --data ../shared/nab/data \\
        --labels ../shared/nab/labels/combined_windows.json --out results/
    python -m padit_stream.evaluation nab --detector cusum --out results/cusum
    python -m padit_stream.evaluation nab --score-only ../shared/nab/reference-results/numenta
    python -m padit_stream.evaluation nab --cv      # leave-one-category-out (see cvcli)
    python -m padit_stream.evaluation synth --out gen/ --seed 0   # synthetic telemetry
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from padit_stream.detectors.config import DETECTORS, DetectionConfig, load_detection_config
from padit_stream.errors import PaditError
from padit_stream.evaluation.backtest import FileRun, run_corpus, write_result
from padit_stream.evaluation.cvcli import add_cv_arguments, run_cv
from padit_stream.evaluation.nab import (
    PROFILES,
    CorpusScore,
    NabDataError,
    NabFile,
    Profile,
    list_data_files,
    load_profiles,
    load_results,
    load_series,
    load_windows,
    prepare_file,
    score_corpus,
)

__all__ = ["add_nab_arguments", "main", "run_nab"]

log = logging.getLogger(__name__)

_DEFAULT_NAB = Path("../shared/nab")


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def add_nab_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``nab`` subcommand's options (for mounting under ``padit eval``)."""
    parser.add_argument(
        "--data",
        type=Path,
        default=_DEFAULT_NAB / "data",
        help="NAB data directory (category/file.csv)",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=_DEFAULT_NAB / "labels" / "combined_windows.json",
        help="NAB combined_windows.json",
    )
    parser.add_argument(
        "--profiles",
        type=Path,
        default=None,
        help="NAB profiles.json (default: next to the data, else built in)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="where result CSVs, scores.json and plots go",
    )
    parser.add_argument("--config", type=Path, default=None, help="YAML detection config")
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default=None,
        help="run this detector alone (default params) on every file",
    )
    parser.add_argument(
        "--plot", action="store_true", help="write a PNG per file (series, windows, detections)"
    )
    parser.add_argument(
        "--score-only",
        type=Path,
        default=None,
        metavar="DIR",
        help="score the results in DIR instead of running a detector",
    )
    parser.add_argument("--processes", type=int, default=None,
                        help="worker processes (default: one per core)")  # fmt: skip
    add_cv_arguments(parser)


def _find_result(results: Path, name: str) -> Path:
    category, file = name.split("/", 1)
    direct = results / category / file
    if direct.is_file():
        return direct
    matches = sorted((results / category).glob(f"*_{file}"))
    if len(matches) != 1:
        raise NabDataError(
            f"{results}: expected one result for {name} "
            f"({category}/{file} or {category}/<detector>_{file}), found {len(matches)}"
        )
    return matches[0]


def _profiles(args: argparse.Namespace) -> dict[str, Profile]:
    path = args.profiles or args.data.parent / "profiles.json"
    if args.profiles is not None or path.is_file():
        return load_profiles(path)
    return dict(PROFILES)


def _progress(total: int, desc: str) -> object:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="file", file=sys.stderr, leave=False)


def _load_scored(
    args: argparse.Namespace, names: list[str], windows: dict[str, list[tuple[float, float]]]
) -> dict[str, tuple[NabFile, np.ndarray]]:
    corpus: dict[str, tuple[NabFile, np.ndarray]] = {}
    for name in names:
        path = _find_result(args.score_only, name)
        times, scores = load_results(path)
        # Values for plots come from the result file itself (same column as the data).
        _, values = load_series(path)
        corpus[name] = (prepare_file(name, times, values, windows.get(name, [])), scores)
    return corpus


def _run(
    args: argparse.Namespace, windows: dict[str, list[tuple[float, float]]]
) -> dict[str, tuple[NabFile, np.ndarray]]:
    config = load_detection_config(args.config) if args.config else DetectionConfig()
    names = list_data_files(args.data)
    bar = _progress(len(names), "nab")

    def done(run: FileRun) -> None:
        write_result(args.out, run)
        bar.update(1)  # type: ignore[attr-defined]

    try:
        runs = run_corpus(args.data, config, args.detector, args.processes, on_done=done)
    finally:
        bar.close()  # type: ignore[attr-defined]
    return {
        name: (prepare_file(name, r.timestamps, r.values, windows.get(name, [])), r.scores)
        for name, r in runs.items()
    }


def _report(results: dict[str, CorpusScore]) -> None:
    std = results.get("standard") or next(iter(results.values()))
    _out(f"{'file':58s} {'score':>8} {'tp':>3} {'fn':>3} {'fp':>4}  (profile {std.profile.name}, "
         f"threshold {std.threshold:.6g})")  # fmt: skip
    for f in std.files:
        _out(f"{f.name:58s} {f.score:8.3f} {f.tp:3d} {f.fn:3d} {f.fp:4d}")
    _out()
    for name, cs in results.items():
        _out(f"{name:20s} {cs.normalised:7.2f}   (threshold {cs.threshold:.6g}, raw {cs.raw:.3f}, "
             f"null {cs.null:.1f}, perfect {cs.perfect:.1f})")  # fmt: skip


def run_nab(args: argparse.Namespace) -> int:
    """Run (or load) the results, score them for every profile, print and save the figures."""
    if args.cv or args.sweep:
        if args.score_only is not None:
            raise NabDataError("--cv and --sweep run the detector: drop --score-only")
        return run_cv(args, _profiles(args))
    if args.grid:
        raise NabDataError("--grid needs --cv or --sweep")
    started = time.perf_counter()
    windows = load_windows(args.labels)
    if args.score_only is not None:
        names = list_data_files(args.data) if args.data.is_dir() else sorted(windows)
        corpus = _load_scored(args, names, windows)
    else:
        corpus = _run(args, windows)
    profiles = _profiles(args)
    results = {name: score_corpus(corpus, p) for name, p in profiles.items()}
    _report(results)
    elapsed = time.perf_counter() - started
    _out(f"\n{len(corpus)} files in {elapsed:.1f} s")
    if args.score_only is None or args.plot:
        args.out.mkdir(parents=True, exist_ok=True)
        summary = {
            name: {
                "score": cs.normalised,
                "threshold": cs.threshold,
                "raw": cs.raw,
                "files": {f.name: {"score": f.score, "tp": f.tp, "fn": f.fn, "fp": f.fp}
                          for f in cs.files},
            }
            for name, cs in results.items()
        }  # fmt: skip
        (args.out / "scores.json").write_text(json.dumps(summary, indent=1))
    if args.plot:
        from padit_stream.evaluation.plot import plot_file

        threshold = (results.get("standard") or next(iter(results.values()))).threshold
        for name, (f, scores) in corpus.items():
            plot_file(f, scores, threshold, (args.out / "plots" / name).with_suffix(".png"))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``nab`` and ``synth`` subcommands (``padit eval nab ...``)."""
    parser = argparse.ArgumentParser(
        prog="padit eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    nab = sub.add_parser("nab", help="backtest and score on NAB")
    add_nab_arguments(nab)
    synth = sub.add_parser("synth", help="write seeded synthetic telemetry with labelled faults")
    synth.add_argument("--out", type=Path, required=True, help="corpus directory to write")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--files-per-category", type=int, default=6)
    synth.add_argument("--rows", type=int, default=4000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "synth":
        from padit_stream.evaluation.synthetic import write_corpus

        n = write_corpus(args.out, args.seed, args.files_per_category, args.rows)
        _out(f"{n} files under {args.out / 'data'}, windows in "
             f"{args.out / 'labels' / 'combined_windows.json'}")  # fmt: skip
        return 0
    try:
        return run_nab(args)
    except PaditError as exc:
        sys.stderr.write(f"padit eval nab: {exc}\n")
        return 2
