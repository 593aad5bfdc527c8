"""Cross-validation over series and over time, scored with the project's NAB rules.

Each series' counted rows (after NAB's probation) are cut into ``n_blocks`` consecutive time
blocks; an anomaly window belongs wholly to the block of its first counted row. A *cell* is
one (series, block). Series are dealt into ``n_folds`` groups, round robin within each
stratum (so every fold holds some of each category). Fold (g, b) tests the cells of group g
in block b and trains on the cells of the *other* groups in the *other* blocks: a choice made
on the training cells has seen neither the test series nor the test time range.

Detectors run online over whole series (no look-ahead), so one run per series and
configuration scores every cell: cross-validation costs no extra detector runs.

Example:
    >>> import numpy as np
    >>> from padit_stream.evaluation.nab import PROFILES, prepare_file
    >>> f = prepare_file("s", np.arange(100.0), np.zeros(100), [(40.0, 44.0), (80.0, 84.0)])
    >>> blocks = time_blocks(f, 2)
    >>> int(blocks[40]), int(blocks[80])
    (0, 1)
    >>> s = np.zeros(100); s[40] = 1.0
    >>> raw, windows = cell_scores(f, s, 0.5, PROFILES["standard"], blocks, 2)
    >>> [round(x, 6) for x in raw], windows.tolist()
    ([1.0, -1.0], [1, 1])
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from padit_stream.evaluation.nab import NabFile, Profile

__all__ = ["Fold", "cell_scores", "make_folds", "normalised", "series_groups", "time_blocks"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def time_blocks(f: NabFile, n_blocks: int) -> IntArray:
    """Block of each row: -1 in the probation, else 0..n_blocks-1 by time (windows whole)."""
    n = len(f.timestamps)
    blocks = np.full(n, -1, dtype=np.int64)
    counted = n - f.probation
    if counted <= 0:
        return blocks
    idx = np.arange(counted, dtype=np.int64)
    blocks[f.probation :] = np.minimum(idx * n_blocks // counted, n_blocks - 1)
    for left, right in f.window_bounds:
        first = min(max(left, f.probation), n - 1)
        b = max(int(blocks[first]), 0)
        lo = max(left, f.probation)
        if lo <= right:
            blocks[lo : right + 1] = b
    return blocks


def _window_block(f: NabFile, blocks: IntArray, left: int) -> int:
    first = min(max(left, f.probation), len(blocks) - 1)
    return max(int(blocks[first]), 0)


def cell_scores(
    f: NabFile,
    scores: FloatArray,
    threshold: float,
    profile: Profile,
    blocks: IntArray,
    n_blocks: int,
) -> tuple[list[float], IntArray]:
    """Raw NAB score and window count of each block of one file at a fixed threshold.

    The blocks' raw scores add up to :func:`~padit_stream.evaluation.nab.file_score_at`'s.
    """
    detected = np.asarray(scores, dtype=np.float64) >= threshold
    detected[: f.probation] = False
    raw = [0.0] * n_blocks
    windows = np.zeros(n_blocks, dtype=np.int64)
    for left, right in f.window_bounds:
        b = _window_block(f, blocks, left)
        windows[b] += 1
        hits = np.flatnonzero(detected[left : right + 1])
        if hits.size:
            raw[b] += profile.tp * float(f.tp_value[left + hits[0]])
        else:
            raw[b] -= profile.fn
    outside = detected & (f.window_id < 0)
    for b in range(n_blocks):
        mask = outside & (blocks == b)
        raw[b] += profile.fp * float(f.fp_unit[mask].sum())
    return raw, windows


def normalised(raw: float, n_windows: int, profile: Profile) -> float:
    """NAB's ``100 * (raw - null) / (perfect - null)``; NaN when there is no window."""
    if n_windows <= 0:
        return float("nan")
    null = -profile.fn * n_windows
    return 100.0 * (raw - null) / (profile.tp * n_windows - null)


@dataclass(frozen=True)
class Fold:
    """Cells as boolean masks of shape (series, blocks)."""

    name: str
    train: npt.NDArray[np.bool_]
    test: npt.NDArray[np.bool_]


def series_groups(strata: Sequence[str], n_groups: int, seed: int) -> list[int]:
    """Group of each series: shuffled within its stratum, dealt round robin (seeded)."""
    rng = random.Random(seed)
    group = [0] * len(strata)
    turn = 0
    for stratum in sorted(set(strata)):
        members = [i for i, s in enumerate(strata) if s == stratum]
        rng.shuffle(members)
        for i in members:
            group[i] = turn % n_groups
            turn += 1
    return group


def make_folds(strata: Sequence[str], n_folds: int, n_blocks: int, seed: int) -> list[Fold]:
    """Folds over series groups and time blocks (see the module doc).

    With one series group (``n_folds`` 1, or a single series) the folds are over time only.
    """
    n = len(strata)
    k = max(1, min(n_folds, n))
    group = np.asarray(series_groups(strata, k, seed), dtype=np.int64)
    folds = []
    for g in range(k):
        in_group = group == g
        for b in range(n_blocks):
            test = np.zeros((n, n_blocks), dtype=bool)
            test[in_group, b] = True
            train = np.zeros((n, n_blocks), dtype=bool)
            rows = ~in_group if k > 1 else np.ones(n, dtype=bool)
            for other in range(n_blocks):
                if other != b:
                    train[rows, other] = True
            folds.append(Fold(f"series group {g}, time block {b}", train, test))
    return folds
