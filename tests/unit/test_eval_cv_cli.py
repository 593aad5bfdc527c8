"""``padit eval nab --cv / --sweep`` end to end on a small synthetic corpus (one process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from padit_stream.evaluation.cli import main
from padit_stream.evaluation.synthetic import CATEGORIES, write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    write_corpus(root, seed=3, files_per_category=3, rows=600)
    return root


def args(corpus: Path, out: Path, *extra: str) -> list[str]:
    return ["nab", "--data", str(corpus / "data"), "--labels",
            str(corpus / "labels" / "combined_windows.json"), "--out", str(out),
            "--processes", "1", "--detector", "range", *extra]  # fmt: skip


def test_cv_prints_each_held_out_category_and_the_pooled_figure(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args(corpus, tmp_path, "--cv", "--grid", "tolerance=0.01,0.1")) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for category in CATEGORIES:
        assert any(line.startswith(category) for line in lines), category
    assert any(line.startswith("pooled (CV)") for line in lines)
    assert any(line.startswith("in-sample (all files)") for line in lines)
    saved = json.loads((tmp_path / "cv.json").read_text())
    assert set(saved["folds"]) == set(CATEGORIES)
    assert {f["standard"]["config"] for f in saved["folds"].values()} <= {
        "tolerance=0.01",
        "tolerance=0.1",
    }
    assert set(saved["configs"]) == {"tolerance=0.01", "tolerance=0.1"}


def test_sweep_prints_one_row_per_value(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args(corpus, tmp_path, "--sweep", "tolerance=0.005,0.01")) == 0
    out = capsys.readouterr().out
    assert "tolerance=0.005" in out and "tolerance=0.01 " in out
    assert set(json.loads((tmp_path / "sweep.json").read_text())) == {
        "tolerance=0.005",
        "tolerance=0.01",
    }


def test_grid_without_cv_and_unknown_params_are_refused(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args(corpus, tmp_path, "--grid", "tolerance=0.1")) == 2
    assert "--grid needs --cv or --sweep" in capsys.readouterr().err
    assert main(args(corpus, tmp_path, "--cv", "--grid", "nope=1")) == 2
    assert "nope" in capsys.readouterr().err
