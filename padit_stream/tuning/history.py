"""The history the tuner learns from: series, which of them a selector picks, NAB directories.

A series is one (source, metric) as the stream sees it: its name (how label files refer to
it), its metric name (what a detection config is keyed by), its labels, and its samples in
time order.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from padit_stream.errors import PaditError
from padit_stream.evaluation.backtest import metric_name_of
from padit_stream.evaluation.nab import list_data_files, load_series

__all__ = ["Selector", "Series", "TuneError", "load_nab_directory", "select"]

FloatArray = npt.NDArray[np.float64]


class TuneError(PaditError):
    """``padit tune`` cannot go on: bad input, no data, no labels."""


@dataclass(frozen=True)
class Series:
    """One series' samples, sorted by time.

    ``stratum`` groups alike series (a NAB category) so that folds and hold-out splits take
    some of each.
    """

    name: str
    source_id: str
    metric_name: str
    timestamps: FloatArray
    values: FloatArray
    labels: Mapping[str, str] = field(default_factory=dict)
    stratum: str = ""

    def __len__(self) -> int:
        return len(self.timestamps)


@dataclass(frozen=True)
class Selector:
    """Which series to tune: metric-name globs (any matches) and labels (all must match).

    Example:
        >>> s = Selector.parse(metrics=["ec2_*"], labels=["category=realAWSCloudwatch"])
        >>> s.matches("ec2_cpu_utilization_5f5533", {"category": "realAWSCloudwatch"})
        True
        >>> s.matches("rds_cpu_utilization_cc0c53", {"category": "realAWSCloudwatch"})
        False
        >>> s.describe()
        'metric in [ec2_*], category=realAWSCloudwatch'
    """

    metrics: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, metrics: Sequence[str] = (), labels: Sequence[str] = ()) -> Selector:
        pairs = []
        for item in labels:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise TuneError(f"--label {item!r}: expected KEY=VALUE")
            pairs.append((key, value))
        return cls(tuple(metrics), tuple(pairs))

    def matches(self, metric_name: str, labels: Mapping[str, str]) -> bool:
        if self.metrics and not any(fnmatch.fnmatchcase(metric_name, p) for p in self.metrics):
            return False
        return all(labels.get(k) == v for k, v in self.labels)

    def describe(self) -> str:
        parts = [f"metric in [{', '.join(self.metrics)}]"] if self.metrics else []
        parts += [f"{k}={v}" for k, v in self.labels]
        return ", ".join(parts) or "all series"


def select(series: Iterable[Series], selector: Selector) -> list[Series]:
    """The series the selector picks, sorted by name."""
    picked = [s for s in series if selector.matches(s.metric_name, s.labels)]
    return sorted(picked, key=lambda s: s.name)


def load_nab_directory(data_dir: Path, selector: Selector) -> list[Series]:
    """Series from a NAB-layout directory (``category/file.csv``, ``timestamp,value``).

    The series name is the relative file name (as in NAB's label files), the metric name the
    file name without ``.csv``, and the category is both the ``category`` label and the
    stratum.
    """
    out = []
    for name in list_data_files(data_dir):
        category = name.split("/", 1)[0]
        metric = metric_name_of(name)
        labels = {"category": category}
        if not selector.matches(metric, labels):
            continue
        timestamps, values = load_series(data_dir / name)
        order = np.argsort(timestamps, kind="stable")
        out.append(
            Series(
                name=name,
                source_id=category,
                metric_name=metric,
                timestamps=timestamps[order],
                values=values[order],
                labels=labels,
                stratum=category,
            )
        )
    return out
