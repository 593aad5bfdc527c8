"""Exposition parsing, relabel rules, counter rates and bucket quantiles (no exporter)."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from adapters.prom.exposition import RelabelRule, parse, relabel
from adapters.prom.rates import CounterRates, bucket_quantile

INF = math.inf


def test_relabel_regex_is_anchored_and_joins_source_labels() -> None:
    samples = parse('ab{x="1"} 1\nabc{x="1"} 2\nab{x="2"} 3\n')
    kept = relabel(samples, [RelabelRule(source_labels=["__name__", "x"], regex="ab;1")])
    assert [(s.name, s.value) for s in kept] == [("ab", 1.0)]


def test_labelkeep_keeps_only_matching_names() -> None:
    [s] = relabel(parse('m{a="1",b="2",c="3"} 1\n'), [RelabelRule(action="labelkeep", regex="a|c")])
    assert s.labels == {"a": "1", "c": "3"}


def test_bad_regex_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="does not compile"):
        RelabelRule(regex="(")


def test_garbage_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse("this is { not an exposition\n")


def test_counter_reset_and_stale_time_give_no_rate() -> None:
    r = CounterRates()
    assert r.update("c", 5, 10.0) is None
    assert r.update("c", 5, 10.0) is None  # no time passed
    assert r.update("c", 9, 12.0) == 2.0
    assert r.update("c", 1, 14.0) is None  # reset
    assert r.update("c", 3, 15.0) == 2.0


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, [(1.0, 0), (INF, 0)], None),
        (0.0, [(1.0, 4), (2.0, 8), (INF, 8)], 0.0),
        (1.0, [(1.0, 4), (2.0, 8), (INF, 8)], 2.0),
        (0.75, [(1.0, 4), (2.0, 8), (INF, 8)], 1.5),
        (0.5, [(INF, 3)], None),
        (0.5, [(-1.0, 2), (1.0, 4), (INF, 4)], -1.0),
    ],
)
def test_bucket_quantile(
    q: float, buckets: list[tuple[float, float]], expected: float | None
) -> None:
    assert bucket_quantile(q, buckets) == expected
