"""One PNG per file: the series, its anomaly windows, the scores and the detections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from padit_stream.evaluation.nab import NabFile

__all__ = ["plot_file"]


def plot_file(
    f: NabFile, scores: npt.NDArray[np.float64], threshold: float, path: Path, title: str = ""
) -> Path:
    """Draw ``f`` with windows shaded, scores below, detections (score >= threshold) marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(f.values))
    fig, (ax, axs) = plt.subplots(
        2, 1, figsize=(14, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        ax.plot(x, f.values, lw=0.6, color="tab:blue")
        for left, right in f.window_bounds:
            for a in (ax, axs):
                a.axvspan(left, right, color="tab:orange", alpha=0.25, lw=0)
        for a in (ax, axs):
            a.axvspan(0, f.probation, color="grey", alpha=0.15, lw=0)
        hits = np.flatnonzero(scores >= threshold)
        hits = hits[hits >= f.probation]
        ax.plot(hits, f.values[hits], "rv", ms=6, label=f"score >= {threshold:.4g}")
        axs.plot(x, scores, lw=0.6, color="tab:green")
        axs.axhline(threshold, color="red", lw=0.6, ls="--")
        axs.set_ylim(-0.02, 1.02)
        ax.set_title(title or f.name, fontsize=9)
        ax.legend(loc="upper left", fontsize=8)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(path, dpi=80)
    finally:
        plt.close(fig)
    return path
