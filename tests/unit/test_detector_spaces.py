"""The search spaces detectors declare: valid names, defaults inside, every corner runnable."""

from __future__ import annotations

import math
from typing import Any

import pytest

from padit_stream.detectors.config import DETECTORS
from padit_stream.detectors.space import (
    CategoricalParam,
    FloatParam,
    IntParam,
    Param,
    check_space,
    defaults_outside,
    search_space_of,
)

TUNABLE = sorted(n for n, cls in DETECTORS.items() if search_space_of(cls))


def test_every_detector_but_the_rules_declares_a_space() -> None:
    assert set(DETECTORS) - set(TUNABLE) == {"threshold"}


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_space_names_constructor_arguments_and_contains_the_defaults(name: str) -> None:
    cls = DETECTORS[name]
    check_space(cls)
    assert defaults_outside(cls) == {}


def test_check_space_names_the_unknown_argument() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        check_space(DETECTORS["ewma"], {"nonsense": FloatParam(0.0, 1.0)})


@pytest.mark.parametrize(
    "make",
    [
        lambda: IntParam(5, 1),
        lambda: IntParam(0, 10, log=True),
        lambda: FloatParam(1.0, 0.5),
        lambda: FloatParam(0.0, 1.0, log=True),
        lambda: CategoricalParam(()),
    ],
)
def test_bad_ranges_are_refused(make: Any) -> None:
    with pytest.raises(ValueError):
        make()


def _corner(param: Param, high: bool) -> Any:
    if isinstance(param, CategoricalParam):
        return param.choices[-1 if high else 0]
    return param.high if high else param.low


@pytest.mark.parametrize("high", [False, True])
@pytest.mark.parametrize("name", TUNABLE)
def test_every_corner_of_the_space_builds_and_scores_in_range(name: str, high: bool) -> None:
    cls = DETECTORS[name]
    params = {k: _corner(p, high) for k, p in search_space_of(cls).items()}
    det = cls(**params)
    scores = []
    for i in range(400):
        x = {"timestamp": 300.0 * i, "value": math.sin(i / 7.0) + (25.0 if i == 390 else 0.0)}
        scores.append(det.score_one(x))
        det.learn_one(x)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_contains_checks_type_and_bounds() -> None:
    assert IntParam(1, 10).contains(10)
    assert not IntParam(1, 10).contains(2.5)
    assert FloatParam(0.5, 1.0).contains(1)
    assert not FloatParam(0.5, 1.0).contains(1.5)
    assert CategoricalParam(("a", "b")).contains("b")
