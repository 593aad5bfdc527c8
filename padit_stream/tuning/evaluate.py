"""Running a detection config over the labelled series and scoring every cell.

One strictly online backtest per series (the same loop as ``padit eval nab``), in a pool
of worker processes that receive the series once; results come back in series order, so
the figures do not depend on the number of processes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from padit_stream.detectors.config import DetectionConfig, build_detector
from padit_stream.evaluation.backtest import run_series
from padit_stream.evaluation.nab import NabFile, Profile, prepare_file
from padit_stream.tuning.cv import cell_scores, time_blocks
from padit_stream.tuning.history import Series

__all__ = ["CellTable", "Evaluator"]

FloatArray = npt.NDArray[np.float64]

_SERIES: list[tuple[str, FloatArray, FloatArray]] = []


def _init(series: list[tuple[str, FloatArray, FloatArray]]) -> None:
    global _SERIES
    _SERIES = series


def _score(job: tuple[int, DetectionConfig]) -> FloatArray:
    index, config = job
    metric, timestamps, values = _SERIES[index]
    detector = build_detector(config, metric)
    return run_series(detector, timestamps.tolist(), values.tolist())


@dataclass(frozen=True)
class CellTable:
    """One configuration's outcome: raw score and window count per (series, block)."""

    raw: FloatArray
    windows: npt.NDArray[np.int64]


class Evaluator:
    """Scores configurations on fixed series, windows, threshold and profile.

    Use as a context manager (it owns the worker pool when ``processes > 1``).
    """

    def __init__(
        self,
        series: Sequence[Series],
        windows: Sequence[Sequence[tuple[float, float]]],
        profile: Profile,
        threshold: float,
        n_blocks: int = 2,
        processes: int | None = None,
    ) -> None:
        self.series = list(series)
        self.profile = profile
        self.threshold = threshold
        self.n_blocks = n_blocks
        self.files: list[NabFile] = [
            prepare_file(s.name, s.timestamps, s.values, w)
            for s, w in zip(self.series, windows, strict=True)
        ]
        self.blocks = [time_blocks(f, n_blocks) for f in self.files]
        self._payload = [(s.metric_name, s.timestamps, s.values) for s in self.series]
        self.processes = max(1, min(processes or os.cpu_count() or 1, len(self.series)))
        self._pool: Any = None

    def __enter__(self) -> Evaluator:
        if self.processes > 1:
            self._pool = get_context("spawn").Pool(
                self.processes, initializer=_init, initargs=(self._payload,)
            )
        else:
            _init(self._payload)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def scores(self, config: DetectionConfig) -> list[FloatArray]:
        """Each series' online scores under ``config``, in series order."""
        # Longest series first, so the pool does not end waiting on one straggler.
        order = sorted(range(len(self.series)), key=lambda i: -len(self.series[i]))
        jobs = [(i, config) for i in order]
        if self._pool is not None:
            results = self._pool.map(_score, jobs, chunksize=1)
        else:
            results = [_score(job) for job in jobs]
        out: list[FloatArray] = [np.zeros(0)] * len(self.series)
        for i, r in zip(order, results, strict=True):
            out[i] = r
        return out

    def table(self, scores: Sequence[FloatArray]) -> CellTable:
        """Raw scores and window counts per cell, at the evaluator's threshold."""
        n = len(self.series)
        raw = np.zeros((n, self.n_blocks))
        windows = np.zeros((n, self.n_blocks), dtype=np.int64)
        for i, (f, s, b) in enumerate(zip(self.files, scores, self.blocks, strict=True)):
            r, w = cell_scores(f, s, self.threshold, self.profile, b, self.n_blocks)
            raw[i] = r
            windows[i] = w
        return CellTable(raw, windows)

    def evaluate(self, config: DetectionConfig) -> tuple[CellTable, list[FloatArray]]:
        scores = self.scores(config)
        return self.table(scores), scores
