"""The soak's plan: its faults are seeded, its bad records are ones the stream refuses."""

from __future__ import annotations

import time

import pytest

from padit_stream.core.clock import TimeBounds
from padit_stream.core.series import SeriesConfig
from padit_stream.errors import DecodeError
from padit_stream.schema import DecodeLimits, decode_metric
from tests.soak.plan import (
    FAULT_KINDS,
    SAMPLES_PER_SERIES,
    Generation,
    bad_burst,
    fault_schedule,
)


def test_faults_are_seeded_spread_and_cover_every_kind() -> None:
    a = fault_schedule(1200, seed=7)
    assert a == fault_schedule(1200, seed=7)
    assert a != fault_schedule(1200, seed=8)
    assert sorted(f.kind for f in a) == sorted(FAULT_KINDS * 2)
    times = [f.at_sec for f in a]
    assert times == sorted(times) and times[0] >= 120 and times[-1] <= 960
    assert all(f.target in (0, 1, 2) for f in a)


def _refused(key: bytes, value: bytes, limits: DecodeLimits, bounds: TimeBounds) -> bool:
    try:
        sample = decode_metric(value, limits)
    except DecodeError:
        return True
    return bounds.why(sample.timestamp, time.time()) is not None


def test_every_bad_record_is_refused_and_distinct() -> None:
    limits, bounds = DecodeLimits(), TimeBounds()
    burst = bad_burst(0, ["soak-g0-s0", "soak-g0-s1"], seed=1)
    assert len({r.digest for r in burst}) == len(burst)
    assert all(_refused(r.key, r.value, limits, bounds) for r in burst), [
        r.kind for r in burst if not _refused(r.key, r.value, limits, bounds)
    ]
    assert {r.kind for r in burst} >= {"not JSON", "oversized", "bad clock", "nested too deep"}


@pytest.mark.parametrize("index", [0, 5])
def test_good_records_are_accepted_and_fill_one_window(index: int) -> None:
    limits, bounds = DecodeLimits(), TimeBounds()
    gen = Generation(index, 3, seed=1, config=SeriesConfig(emit_every=60.0))
    records = []
    while not gen.done:
        records += gen.next_round()
    assert len(records) == 3 * SAMPLES_PER_SERIES
    assert not any(_refused(k, v, limits, bounds) for k, v in records)
    answers = dict(gen.expected())
    # Every sample stays in the window: the check at the end sees the whole life.
    assert [a["count"] for a in answers.values()] == [SAMPLES_PER_SERIES] * 3
