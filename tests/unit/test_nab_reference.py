"""The scorer reproduces NAB's published figures on the reference results (README table).

Reads the shared data from ``PADIT_NAB_DIR`` or ``../shared/nab`` next to the repository; the
data is part of the development environment and CI, so a missing directory is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from padit_stream.evaluation.nab import (
    PROFILES,
    list_data_files,
    load_results,
    load_series,
    load_windows,
    prepare_file,
    score_corpus,
)

REPO = Path(__file__).resolve().parents[2]
NAB = Path(os.environ.get("PADIT_NAB_DIR", REPO.parent / "shared" / "nab"))

# From shared/nab/README.md ("NAB's own scorer, run on exactly these 35 files").
EXPECTED = {
    "numenta": (66.59, 60.81, 71.06),
    "windowedGaussian": (21.97, 4.87, 29.80),
}


@pytest.mark.parametrize("detector", sorted(EXPECTED))
def test_reference_figures(detector: str) -> None:
    assert NAB.is_dir(), f"NAB data not found at {NAB} (set PADIT_NAB_DIR)"
    windows = load_windows(NAB / "labels" / "combined_windows.json")
    corpus = {}
    names = list_data_files(NAB / "data")
    assert len(names) == 35
    for name in names:
        category, file = name.split("/")
        times, values = load_series(NAB / "data" / name)
        rtimes, scores = load_results(
            NAB / "reference-results" / detector / category / f"{detector}_{file}"
        )
        assert (rtimes == times).all()
        corpus[name] = (prepare_file(name, times, values, windows[name]), scores)
    got = tuple(
        score_corpus(corpus, PROFILES[p]).normalised
        for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
    )
    for g, e in zip(got, EXPECTED[detector], strict=True):
        assert abs(g - e) <= 0.01, (detector, got)
