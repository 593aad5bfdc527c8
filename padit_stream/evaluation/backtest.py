"""Strictly online backtest: every row is scored before it is learned, no look-ahead.

:func:`run_series` is the one per-row loop: the stream test replays a series through Kafka and
compares its scores with this function's, row for row.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import numpy.typing as npt

from padit_stream.detectors.base import Detector, evaluate
from padit_stream.detectors.config import DetectionConfig, build_detector
from padit_stream.evaluation.nab import list_data_files, load_series

__all__ = ["FileRun", "metric_name_of", "run_corpus", "run_file", "run_series"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


def run_series(
    detector: Detector, timestamps: Sequence[float], values: Sequence[float]
) -> FloatArray:
    """Evaluate each row in order (the stream's step, :func:`evaluate`); return the scores.

    Each observation is ``{"timestamp": epoch_seconds, "value": v}``, as the stream sends it.
    """
    out = np.empty(len(values), dtype=np.float64)
    ts = [float(t) for t in timestamps]
    vs = [float(v) for v in values]
    for i, (t, v) in enumerate(zip(ts, vs, strict=True)):
        out[i] = evaluate(detector, {"timestamp": t, "value": v}).score
    return out


def metric_name_of(relative_name: str) -> str:
    """The metric name a NAB file stands for: its file name without ``.csv``."""
    return Path(relative_name).stem


@dataclass
class FileRun:
    """One file's backtest output."""

    name: str
    timestamps: FloatArray
    values: FloatArray
    scores: FloatArray


def run_file(
    data_dir: Path, relative_name: str, config: DetectionConfig, detector: str | None = None
) -> FileRun:
    """Run the configured detector for this file's metric (or ``detector`` alone) over it."""
    timestamps, values = load_series(data_dir / relative_name)
    metric = metric_name_of(relative_name)
    if detector is not None:
        config = config.model_copy(
            update={
                "default": config.default.model_copy(update={"detector": detector, "params": {}}),
                "metrics": {},
            }
        )
    det = build_detector(config, metric)
    scores = run_series(det, timestamps.tolist(), values.tolist())
    return FileRun(relative_name, timestamps, values, scores)


def write_result(out_dir: Path, run: FileRun, raw_times: list[str] | None = None) -> Path:
    """Write ``<out>/<category>/<file>.csv`` with ``timestamp,value,anomaly_score``."""
    path = out_dir / run.name
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = raw_times or [
        str(np.datetime64(round(t * 1e6), "us").astype("datetime64[s]")).replace("T", " ")
        for t in run.timestamps.tolist()
    ]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value", "anomaly_score"])
        for stamp, v, s in zip(stamps, run.values.tolist(), run.scores.tolist(), strict=True):
            w.writerow([stamp, repr(v), repr(s)])
    return path


def _work(args: tuple[Path, str, DetectionConfig, str | None]) -> FileRun:
    return run_file(*args)


def run_corpus(
    data_dir: Path,
    config: DetectionConfig,
    detector: str | None = None,
    processes: int | None = None,
    on_done: Callable[[FileRun], None] | None = None,
) -> dict[str, FileRun]:
    """Run every file of the corpus, in parallel over the cores; returns runs by file name."""
    names = list_data_files(data_dir)
    # Biggest files first so the pool does not end waiting on one long straggler.
    names.sort(key=lambda n: -(data_dir / n).stat().st_size)
    jobs = [(data_dir, n, config, detector) for n in names]
    procs = processes or os.cpu_count() or 1
    runs: dict[str, FileRun] = {}

    def collect(it: Iterator[FileRun]) -> None:
        for run in it:
            runs[run.name] = run
            if on_done is not None:
                on_done(run)

    if procs <= 1:
        collect(map(_work, jobs))
    else:
        with get_context("spawn").Pool(procs) as pool:
            collect(pool.imap_unordered(_work, jobs))
    return dict(sorted(runs.items()))
