"""Selecting series to tune: metric globs and labels."""

from __future__ import annotations

import pytest

from padit_stream.tuning.history import Selector, TuneError


def test_selector_needs_key_value_labels() -> None:
    with pytest.raises(TuneError, match="KEY=VALUE"):
        Selector.parse(labels=["site"])
    s = Selector.parse(labels=["site=par", "role=du"])
    assert s.matches("anything", {"site": "par", "role": "du", "x": "y"})
    assert not s.matches("anything", {"site": "par"})


def test_metric_globs_are_alternatives() -> None:
    s = Selector.parse(metrics=["rtt_*", "loss"])
    assert s.matches("rtt_ms", {}) and s.matches("loss", {})
    assert not s.matches("loss_ratio", {})
    assert Selector().matches("whatever", {}) and Selector().describe() == "all series"
