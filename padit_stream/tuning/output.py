"""What the tuner writes: the detection-config fragment, per-series rows, plots of two series.

The fragment is in the format :func:`padit_stream.detectors.config.load_detection_config`
reads (a ``detection:`` section with ``metrics``), one entry per metric name the selector
picked, so it can be merged into ``config/padit.yaml`` or loaded as it is.

Example:
    >>> from padit_stream.detectors.config import DetectorSpec
    >>> text = fragment_yaml({"rtt": DetectorSpec(detector="ewma", params={"lam": 0.1})},
    ...                      ["tuned for metric in [rtt]"])
    >>> print(text)
    # tuned for metric in [rtt]
    detection:
      metrics:
        rtt:
          detector: ewma
          params:
            lam: 0.1
    <BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from padit_stream.detectors.config import DetectorSpec
from padit_stream.evaluation.nab import NabFile, Profile, file_score_at

__all__ = ["SeriesRow", "fragment_yaml", "plot_extremes", "series_rows"]

FloatArray = npt.NDArray[np.float64]


def fragment_yaml(specs: Mapping[str, DetectorSpec], header: Sequence[str]) -> str:
    """The ``detection.metrics`` fragment for ``specs`` (metric name -> spec), commented."""
    metrics = {
        name: {"detector": spec.detector, **({"params": dict(spec.params)} if spec.params else {})}
        for name, spec in sorted(specs.items())
    }
    body = yaml.safe_dump({"detection": {"metrics": metrics}}, sort_keys=True)
    comments = "".join(f"# {line}\n" for line in header)
    return comments + body


@dataclass(frozen=True)
class SeriesRow:
    """One series' outcome before and after, at the tuner's threshold."""

    name: str
    part: str
    windows: int
    before: float
    after: float
    tp: int
    fn: int
    fp: int


def series_rows(
    part: str,
    files: Sequence[NabFile],
    before: Sequence[FloatArray],
    after: Sequence[FloatArray],
    threshold: float,
    profile: Profile,
) -> list[SeriesRow]:
    rows = []
    for f, b, a in zip(files, before, after, strict=True):
        fb = file_score_at(f, b, threshold, profile)
        fa = file_score_at(f, a, threshold, profile)
        rows.append(SeriesRow(f.name, part, f.n_windows, fb.score, fa.score, fa.tp, fa.fn, fa.fp))
    return rows


def plot_extremes(
    rows: Sequence[SeriesRow],
    files: Mapping[str, NabFile],
    scores: Mapping[str, FloatArray],
    threshold: float,
    out_dir: Path,
) -> list[Path]:
    """PNG of the worst and the best series by their tuned raw score (``worst.png``,
    ``best.png``)."""
    from padit_stream.evaluation.plot import plot_file

    if not rows:
        return []
    ranked = sorted(rows, key=lambda r: (r.after, r.name))
    paths = []
    for label, row in (("worst", ranked[0]), ("best", ranked[-1])):
        title = (
            f"{label}: {row.name} ({row.part}) raw score {row.before:.3f} -> "
            f"{row.after:.3f}, tp {row.tp} fn {row.fn} fp {row.fp}"
        )
        path = out_dir / f"{label}.png"
        paths.append(plot_file(files[row.name], scores[row.name], threshold, path, title))
    return paths
