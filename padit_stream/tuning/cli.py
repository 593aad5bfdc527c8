"""``padit tune``: search detectors and parameters for a selection of series, on their history.

History comes from a NAB-layout directory (``--nab DIR``) or from the metrics topic over a
time range (``--since``/``--until``); labels from a NAB windows file (``--windows``) or the
operators' verdicts on the feedback topic (``--feedback``). The current configuration is the
``detection`` section of the settings (``--settings``, else ``PADIT_CONFIG`` or
``config/padit.yaml``), scored at its ``anomaly_threshold`` (``--threshold`` overrides).

Examples::

    padit tune --nab ../shared/nab/data --windows ../shared/nab/labels/combined_windows.json \\
        --trials 30 --seed 1 --holdout 0.5 --out results/tune
    padit tune --since 2026-11-01T00:00Z --until 2026-12-01T00:00Z --feedback \\
        --metric 'rtt_*' --profile low_fp --seconds 600 --out results/tune-rtt
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from padit_stream.errors import PaditError
from padit_stream.evaluation.nab import PROFILES, Profile, load_windows
from padit_stream.feedback import label_windows, labelled_series
from padit_stream.tuning.history import Selector, Series, TuneError, load_nab_directory
from padit_stream.tuning.run import TuneRequest, TuneResult, tune
from padit_stream.tuning.search import Trial
from padit_stream.tuning.select import Interval

__all__ = ["main"]

log = logging.getLogger(__name__)

_PROFILES = {
    "standard": "standard",
    "low_fp": "reward_low_FP_rate",
    "low_fn": "reward_low_FN_rate",
}


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _time(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 time, got {text!r}") from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="padit tune", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_argument_group("history")
    src.add_argument("--nab", type=Path, help="NAB-layout directory (category/file.csv)")
    src.add_argument("--since", type=_time, help="metrics topic: start of the range (ISO 8601)")
    src.add_argument("--until", type=_time, help="metrics topic: end of the range (ISO 8601)")
    src.add_argument("--broker", help="host:port (default: app.broker of the settings)")
    # 200 series x 10,000 samples x 16 bytes: 32 MB held, and one copy per worker process.
    src.add_argument("--max-series", type=int, default=200, help="series kept (first seen)")
    src.add_argument("--max-rows", type=int, default=10_000, help="latest samples per series")
    src.add_argument(
        "--lateness",
        type=float,
        default=600.0,
        metavar="SEC",
        help="how far record timestamps may trail or lead event times",
    )
    lab = p.add_argument_group("labels")
    lab.add_argument(
        "--windows",
        type=Path,
        help="NAB windows JSON: series name (NAB file name, or source_id/metric_name for the "
        "metrics topic) -> windows",
    )
    lab.add_argument("--feedback", action="store_true", help="verdicts from the feedback topic")
    lab.add_argument(
        "--anomaly-window",
        type=float,
        default=3600.0,
        metavar="SEC",
        help="width of the window a true-positive verdict stands for",
    )
    sel = p.add_argument_group("selection")
    sel.add_argument("--metric", action="append", default=[], metavar="GLOB")
    sel.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    s = p.add_argument_group("search")
    s.add_argument("--family", action="append", default=[], help="detector families to search")
    s.add_argument("--profile", choices=sorted(_PROFILES), default="standard")
    s.add_argument("--trials", type=int, default=None, help="budget in trials")
    s.add_argument("--seconds", type=float, default=None, help="budget in seconds")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threshold", type=float, default=None)
    s.add_argument("--folds", type=int, default=3, help="series groups for cross-validation")
    s.add_argument("--blocks", type=int, default=2, help="time blocks for cross-validation")
    s.add_argument(
        "--holdout",
        type=float,
        default=0.0,
        help="fraction of each stratum's labelled series kept from the tuner",
    )
    s.add_argument("--processes", type=int, default=None)
    p.add_argument("--settings", type=Path, default=None)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/tune"),
        help="directory for detection.yaml, report.json and the plots",
    )
    p.add_argument("--no-progress", action="store_true")
    return p


def _history(args: argparse.Namespace, settings: Any, selector: Selector) -> list[Series]:
    if args.nab is not None:
        if args.since is not None or args.until is not None:
            raise TuneError("--nab reads a directory: --since/--until are for the metrics topic")
        return load_nab_directory(args.nab, selector)
    if args.since is None or args.until is None:
        raise TuneError("give --nab DIR, or --since and --until to read the metrics topic")
    from padit_stream.security import aiokafka_kwargs
    from padit_stream.tuning.kafka_source import read_metrics

    read = read_metrics(
        _bootstrap(args, settings),
        settings.topics.name("metrics"),
        args.since,
        args.until,
        selector,
        max_series=args.max_series,
        max_rows=args.max_rows,
        security=aiokafka_kwargs(settings.kafka),
        progress=not args.no_progress,
    )
    log.info(
        "%d records, %d not decodable, %d series over --max-series skipped",
        read.records,
        read.bad_records,
        read.skipped_series,
    )
    return read.series


def _bootstrap(args: argparse.Namespace, settings: Any) -> str:
    broker: str = args.broker or settings.app.broker
    return broker.removeprefix("kafka://").replace(";", ",")


def _labels(
    args: argparse.Namespace, settings: Any, series: list[Series]
) -> dict[str, list[tuple[float, float]]]:
    if args.windows is not None and args.feedback:
        raise TuneError("give one source of labels: --windows or --feedback")
    if args.windows is not None:
        windows = load_windows(args.windows)
        return {s.name: windows[s.name] for s in series if s.name in windows}
    if not args.feedback:
        raise TuneError("give labels: --windows FILE or --feedback")
    from padit_stream.feedback_topic import read_feedback
    from padit_stream.security import aiokafka_kwargs

    verdicts = read_feedback(
        _bootstrap(args, settings),
        settings.topics.name("feedback"),
        aiokafka_kwargs(settings.kafka),
    )
    marked = labelled_series(verdicts)
    spans = label_windows(verdicts, args.anomaly_window)
    return {
        s.name: spans.get((s.source_id, s.metric_name), [])
        for s in series
        if (s.source_id, s.metric_name) in marked
    }


def _progress(trial: Trial, leader: Trial) -> None:
    what = trial.candidate.describe() if trial.candidate else "current"
    sys.stderr.write(
        f"trial {trial.number:3d} {trial.objective:7.2f} {trial.seconds:6.1f}s "
        f"{what}  (best {leader.objective:.2f})\n"
    )


def _report(req: TuneRequest, result: TuneResult, profile: Profile) -> None:
    cv = result.cv
    _out(
        f"selector: {req.selector.describe()}; profile {profile.name}; threshold "
        f"{req.threshold:g}; seed {req.seed}"
    )
    _out(f"chosen: {result.chosen}")
    _out(
        f"{len(result.trials)} trials in {result.elapsed_s:.1f} s: "
        f"{result.trials_per_minute:.1f} trials per minute"
    )
    _out()
    _out(f"{'NAB score (95% CI over series)':34s} {'before':>22s} {'after':>22s} {'gain':>22s}")

    def line(name: str, ivs: tuple[Interval, Interval, Interval]) -> None:
        _out(f"{name:34s} {ivs[0]!s:>22s} {ivs[1]!s:>22s} {ivs[2]!s:>22s}")

    line("tuning series, in sample", result.in_sample)
    line("tuning series, cross-validated", result.out_of_fold)
    if result.holdout is not None:
        line("held-out series", result.holdout)
    _out(
        f"cross-validation: gain per fold {cv.mean_gain:.2f} +- {cv.spread:.2f} (std over "
        f"{len(cv.fold_gain)} folds); chosen per fold: {', '.join(cv.fold_choice)}"
    )
    for part, (b, bt, a, at) in result.sweep.items():
        _out(
            f"NAB convention (threshold swept), {part}: {b:.2f} at {bt:.4g} -> {a:.2f} at {at:.4g}"
        )
    _out()
    _out(f"{'series':58s} {'part':8s} {'win':>3s} {'before':>8s} {'after':>8s} tp fn  fp")
    for r in result.rows:
        _out(
            f"{r.name:58s} {r.part:8s} {r.windows:3d} {r.before:8.3f} {r.after:8.3f} "
            f"{r.tp:2d} {r.fn:2d} {r.fp:3d}"
        )


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from padit_stream.settings import load_settings

    if args.trials is None and args.seconds is None:
        args.trials = 40
    settings = load_settings(args.settings)
    selector = Selector.parse(args.metric, args.label)
    series = _history(args, settings, selector)
    if not series:
        raise TuneError(f"no series matches the selector ({selector.describe()})")
    windows = _labels(args, settings, series)
    profile = PROFILES[_PROFILES[args.profile]]
    threshold = settings.detection.anomaly_threshold if args.threshold is None else args.threshold
    req = TuneRequest(
        series,
        windows,
        settings.detection,
        selector,
        profile,
        threshold,
        seed=args.seed,
        trials=args.trials,
        seconds=args.seconds,
        family_names=args.family,
        folds=args.folds,
        blocks=args.blocks,
        holdout=args.holdout,
        processes=args.processes,
        out_dir=args.out,
    )
    log.info("%d series selected, %d labelled", len(series), len(windows))
    result = tune(req, on_trial=_progress)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "detection.yaml").write_text(result.fragment)
    figures = result.figures() | {
        "elapsed_s": result.elapsed_s,
        "trials_per_minute": result.trials_per_minute,
    }
    (args.out / "report.json").write_text(json.dumps(figures, indent=1))
    _report(req, result, profile)
    _out()
    _out(
        f"wrote {args.out / 'detection.yaml'}, {args.out / 'report.json'}, "
        f"{', '.join(str(p) for p in result.plots)}"
    )
    _out()
    _out(result.fragment.rstrip())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``padit tune``; 2 on bad input (the message says what and where)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(list(sys.argv[1:] if argv is None else argv))
    except PaditError as exc:
        sys.stderr.write(f"padit tune: {exc}\n")
        return 2
