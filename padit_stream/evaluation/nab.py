"""A scorer for the Numenta Anomaly Benchmark (NAB), written from NAB's published rules.

The rules (see ``shared/nab/README.md``):

* a threshold turns scores into detections (``score >= threshold``); per profile, the threshold
  is the one that maximises the corpus total, swept over the distinct scores;
* the first 15% of each file (at most 750 rows) is probationary and never counts;
* in each window only the best (that is, earliest) detection counts, weighted by the scaled
  sigmoid of its position, normalised so that a detection on the window's first row is worth
  exactly the true-positive weight; an undetected window costs the false-negative weight;
* a detection outside every window costs the false-positive weight times the scaled sigmoid of
  its distance after the previous window's end (in lengths of that window), or the full weight
  when no window precedes it;
* the corpus total is normalised against the null detector (never fires) and the perfect one
  (fires on every window's first row): ``100 * (raw - null) / (perfect - null)``.

Positions are counted in rows, as NAB does, not in seconds.

Example:
    >>> import numpy as np
    >>> f = prepare_file("demo.csv", np.arange(20.0), np.zeros(20), [(10.0, 13.0)])
    >>> f.window_bounds
    [(10, 13)]
    >>> s = np.zeros(20); s[10] = 1.0
    >>> round(score_corpus({"demo.csv": (f, s)}, PROFILES["standard"]).normalised, 6)
    100.0
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from padit_stream.errors import PaditError

__all__ = [
    "PROFILES",
    "CorpusScore",
    "FileScore",
    "NabDataError",
    "NabFile",
    "Profile",
    "file_score_at",
    "list_data_files",
    "load_profiles",
    "load_results",
    "load_series",
    "load_windows",
    "parse_timestamps",
    "prepare_file",
    "probationary_length",
    "scaled_sigmoid",
    "score_corpus",
]

FloatArray = npt.NDArray[np.float64]

PROBATION_PERCENT = 0.15
#: NAB caps the probationary period at 15% of 5000 rows.
PROBATION_CAP_ROWS = 5000


class NabDataError(PaditError):
    """A NAB data, label, profile or result file is missing or malformed."""


@dataclass(frozen=True)
class Profile:
    """The weights of one NAB scoring profile."""

    name: str
    tp: float
    fn: float
    fp: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 1.0, 1.0, 0.11),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 1.0, 0.22),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 2.0, 0.11),
}


def scaled_sigmoid(y: float) -> float:
    """NAB's scaled sigmoid ``2 / (1 + exp(5y)) - 1``, exactly -1 beyond three lengths."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probationary_length(n_rows: int) -> int:
    """Rows at the start of a file whose detections never count."""
    return int(min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * PROBATION_CAP_ROWS))


@dataclass
class NabFile:
    """One data file prepared for scoring: per-row weights, independent of the scores.

    ``tp_value[i]`` is the true-positive worth (tp weight 1) of a detection on row ``i`` when
    it lies in window ``window_id[i]``; ``fp_unit[i]`` is the (negative) false-positive worth at
    fp weight 1 of a detection on row ``i`` outside every window (``window_id[i] == -1``).
    """

    name: str
    timestamps: FloatArray
    values: FloatArray
    window_bounds: list[tuple[int, int]]
    probation: int
    window_id: npt.NDArray[np.int64]
    tp_value: FloatArray
    fp_unit: FloatArray

    @property
    def n_windows(self) -> int:
        return len(self.window_bounds)


def parse_timestamps(texts: Iterable[str]) -> FloatArray:
    """Parse ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC) into epoch seconds."""
    arr = np.array(list(texts), dtype="datetime64[us]")
    return arr.astype(np.int64).astype(np.float64) / 1e6


def prepare_file(
    name: str,
    timestamps: FloatArray,
    values: FloatArray,
    windows: Iterable[tuple[float, float]],
) -> NabFile:
    """Map windows (epoch seconds) onto rows and precompute each row's worth.

    A window covers the rows whose timestamp lies within ``[start, end]``.
    """
    n = len(timestamps)
    bounds: list[tuple[int, int]] = []
    for start, end in windows:
        left = int(np.searchsorted(timestamps, start, side="left"))
        right = int(np.searchsorted(timestamps, end, side="right")) - 1
        if left <= right:
            bounds.append((left, right))
    bounds.sort()
    window_id = np.full(n, -1, dtype=np.int64)
    tp_value = np.zeros(n)
    fp_unit = np.full(n, -1.0)
    max_tp = scaled_sigmoid(-1.0)
    for k, (left, right) in enumerate(bounds):
        width = right - left + 1
        for i in range(left, right + 1):
            window_id[i] = k
            # -1 on the window's first row, just below 0 on its last.
            tp_value[i] = scaled_sigmoid(-(right - i + 1) / width) / max_tp
            fp_unit[i] = 0.0
        # Rows after this window (up to the next one) are weighted by their distance to it.
        stop = bounds[k + 1][0] if k + 1 < len(bounds) else n
        if width > 1:
            for i in range(right + 1, stop):
                fp_unit[i] = scaled_sigmoid((i - right) / (width - 1))
    return NabFile(
        name=name,
        timestamps=timestamps,
        values=values,
        window_bounds=bounds,
        probation=probationary_length(n),
        window_id=window_id,
        tp_value=tp_value,
        fp_unit=fp_unit,
    )


@dataclass
class FileScore:
    """One file's outcome at the corpus threshold of a profile."""

    name: str
    score: float
    tp: int
    fp: int
    fn: int
    n_windows: int


@dataclass
class CorpusScore:
    """A profile's corpus outcome: the chosen threshold, raw and normalised scores."""

    profile: Profile
    threshold: float
    raw: float
    null: float
    perfect: float
    files: list[FileScore] = field(default_factory=list)

    @property
    def normalised(self) -> float:
        if self.perfect == self.null:
            return 0.0
        return float(100.0 * (self.raw - self.null) / (self.perfect - self.null))


def _check_scores(f: NabFile, scores: FloatArray) -> FloatArray:
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != f.timestamps.shape:
        raise NabDataError(f"{f.name}: {s.shape[0]} scores for {f.timestamps.shape[0]} rows")
    return s


def file_score_at(f: NabFile, scores: FloatArray, threshold: float, profile: Profile) -> FileScore:
    """Score one file at a fixed threshold."""
    s = _check_scores(f, scores)
    detected = s >= threshold
    detected[: f.probation] = False
    total = 0.0
    tp = fn = 0
    for left, right in f.window_bounds:
        hits = np.flatnonzero(detected[left : right + 1])
        if hits.size:
            tp += 1
            total += profile.tp * float(f.tp_value[left + hits[0]])
        else:
            fn += 1
            total -= profile.fn
    outside = detected & (f.window_id < 0)
    fp = int(outside.sum())
    total += profile.fp * float(f.fp_unit[outside].sum())
    return FileScore(f.name, total, tp, fp, fn, f.n_windows)


def score_corpus(corpus: Mapping[str, tuple[NabFile, FloatArray]], profile: Profile) -> CorpusScore:
    """Sweep the threshold over the distinct scores; keep the best corpus total.

    Detections at a threshold are the rows scoring at least it; lowering the threshold through
    the sorted scores adds rows one group of equal scores at a time, so the corpus total at
    every candidate is updated incrementally (a window's worth is the best row added so far).
    """
    all_scores: list[FloatArray] = []
    all_window: list[npt.NDArray[np.int64]] = []
    all_worth: list[FloatArray] = []
    n_windows = 0
    for f, scores in corpus.values():
        s = _check_scores(f, scores)[f.probation :]
        wid = f.window_id[f.probation :]
        in_window = wid >= 0
        all_scores.append(s)
        all_window.append(np.where(in_window, wid + n_windows, -1))
        all_worth.append(
            np.where(
                in_window,
                profile.tp * f.tp_value[f.probation :],
                profile.fp * f.fp_unit[f.probation :],
            )
        )
        n_windows += f.n_windows
    null = -profile.fn * n_windows
    perfect = profile.tp * n_windows
    if all_scores:
        scores_cat = np.concatenate(all_scores)
        window_cat = np.concatenate(all_window)
        worth_cat = np.concatenate(all_worth)
    else:
        scores_cat = np.zeros(0)
        window_cat = np.zeros(0, dtype=np.int64)
        worth_cat = np.zeros(0)
    order = np.argsort(-scores_cat, kind="stable")
    sorted_scores = scores_cat[order].tolist()
    sorted_window = window_cat[order].tolist()
    sorted_worth = worth_cat[order].tolist()

    window_best = [-profile.fn] * n_windows
    total = null
    # Above every score nothing fires: the null detector's total.
    best_total = total
    best_threshold = math.inf
    i = 0
    n = len(sorted_scores)
    while i < n:
        threshold = sorted_scores[i]
        while i < n and sorted_scores[i] == threshold:
            w = sorted_window[i]
            worth = sorted_worth[i]
            if w < 0:
                total += worth
            else:
                old = window_best[w]
                if worth > old:
                    window_best[w] = worth
                    total += worth - old
            i += 1
        if total > best_total:
            best_total = total
            best_threshold = threshold
    result = CorpusScore(profile, best_threshold, 0.0, null, perfect)
    raw = 0.0
    for f, scores in corpus.values():
        fs = file_score_at(f, scores, best_threshold, profile)
        result.files.append(fs)
        raw += fs.score
    result.raw = raw
    return result


def list_data_files(data_dir: Path) -> list[str]:
    """Relative names (``category/file.csv``) of the data files, sorted."""
    if not data_dir.is_dir():
        raise NabDataError(f"{data_dir}: not a directory of NAB data")
    return sorted(p.relative_to(data_dir).as_posix() for p in data_dir.glob("*/*.csv"))


def _read_csv(path: Path, want_score: bool) -> tuple[list[str], FloatArray, FloatArray]:
    times: list[str] = []
    values: list[float] = []
    scores: list[float] = []
    try:
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            cols = {name.strip(): k for k, name in enumerate(header)}
            t_col, v_col = cols["timestamp"], cols["value"]
            s_col = cols["anomaly_score"] if want_score else -1
            for row in reader:
                if not row:
                    continue
                times.append(row[t_col])
                values.append(float(row[v_col]))
                if want_score:
                    scores.append(float(row[s_col]))
    except (OSError, KeyError, ValueError, StopIteration, IndexError) as exc:
        raise NabDataError(f"{path}: cannot read NAB csv ({exc!r})") from exc
    return times, np.asarray(values, dtype=np.float64), np.asarray(scores, dtype=np.float64)


def load_series(path: Path) -> tuple[FloatArray, FloatArray]:
    """Read a NAB data file: (epoch seconds, values)."""
    times, values, _ = _read_csv(path, want_score=False)
    return parse_timestamps(times), values


def load_results(path: Path) -> tuple[FloatArray, FloatArray]:
    """Read a result file: (epoch seconds, anomaly scores)."""
    times, _, scores = _read_csv(path, want_score=True)
    return parse_timestamps(times), scores


def load_windows(path: Path) -> dict[str, list[tuple[float, float]]]:
    """Read ``combined_windows.json``: per relative file name, windows in epoch seconds."""
    try:
        raw = json.loads(path.read_text())
        out: dict[str, list[tuple[float, float]]] = {}
        for name, pairs in raw.items():
            flat = [t for pair in pairs for t in pair]
            secs = parse_timestamps(flat).tolist() if flat else []
            out[name] = [(secs[2 * k], secs[2 * k + 1]) for k in range(len(pairs))]
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise NabDataError(f"{path}: cannot read NAB windows ({exc!r})") from exc
    return out


def load_profiles(path: Path) -> dict[str, Profile]:
    """Read NAB's ``profiles.json``."""
    try:
        raw = json.loads(path.read_text())
        return {
            name: Profile(
                name,
                float(p["CostMatrix"]["tpWeight"]),
                float(p["CostMatrix"]["fnWeight"]),
                float(p["CostMatrix"]["fpWeight"]),
            )
            for name, p in raw.items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NabDataError(f"{path}: cannot read NAB profiles ({exc!r})") from exc
