"""The synthetic telemetry generator: seeded, labelled, and readable by the NAB tooling."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from padit_stream.evaluation.nab import list_data_files, load_series, load_windows
from padit_stream.evaluation.synthetic import CATEGORIES, generate, write_corpus


def test_same_seed_same_corpus_other_seed_other_corpus() -> None:
    a, wa = generate(seed=4, files_per_category=3, rows=800)
    b, wb = generate(seed=4, files_per_category=3, rows=800)
    c, _ = generate(seed=5, files_per_category=3, rows=800)
    assert wa == wb
    assert all(np.array_equal(a[n][1], b[n][1]) for n in a)
    assert any(not np.array_equal(a[n][1], c[n][1]) for n in a)


def test_windows_lie_inside_their_file_and_bounded_values_stay_bounded() -> None:
    files, windows = generate(seed=2, files_per_category=8, rows=1000)
    assert sum(len(w) for w in windows.values()) > 10
    for name, (t, v) in files.items():
        for start, end in windows[name]:
            assert t[0] + 0.15 * (t[-1] - t[0]) < start < end <= t[-1]
        if name.startswith("bounded/"):
            assert v.min() >= 0.0 and v.max() <= 1.0


def test_written_corpus_reads_back_as_nab(tmp_path: Path) -> None:
    assert write_corpus(tmp_path, seed=1, files_per_category=2, rows=500) == 2 * len(CATEGORIES)
    names = list_data_files(tmp_path / "data")
    windows = load_windows(tmp_path / "labels" / "combined_windows.json")
    assert sorted(windows) == names
    files, expected = generate(seed=1, files_per_category=2, rows=500)
    t, v = load_series(tmp_path / "data" / names[0])
    assert np.allclose(t, files[names[0]][0]) and np.array_equal(v, files[names[0]][1])
    assert windows == expected
