"""Per-series history: buckets, chunks in a bounded ring of rows, rebuilt from the rows."""

from __future__ import annotations

import random
import struct

import pytest

from padit_stream.core.alert_intervals import Interval, decode_intervals, merge_intervals
from padit_stream.core.history import (
    SCORES,
    VALUES,
    HistoryConfig,
    HistoryState,
    read_buckets,
)
from padit_stream.schema import metric_key
from tests.unit.changelog import Rows

KEY = metric_key("du-1", "latency_ms")
T0 = 1_767_225_600.0  # a minute boundary


def f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def expected_buckets(samples: list[tuple[float, float]], step: float) -> dict[int, tuple]:
    by: dict[int, list[float]] = {}
    for ts, v in samples:
        by.setdefault(int(ts // step), []).append(v)
    return {i: (min(vs), sum(vs) / len(vs), max(vs)) for i, vs in by.items()}


def feed(rows: Rows, config: HistoryConfig, samples, per_batch: int = 7, kind=VALUES) -> int:
    """Feed samples in batches, reloading the state from the rows now and then."""
    state = HistoryState.load(KEY, config, kind, rows.get)
    written = 0
    for n, (ts, v) in enumerate(samples, 1):
        state.add(ts, v, wall=ts, labels={"site": "a"})
        if n % per_batch == 0:
            written += rows.apply(state.flush())
            if n % (per_batch * 3) == 0:
                state = HistoryState.load(KEY, config, kind, rows.get)
    written += rows.apply(state.flush())
    return written


def test_buckets_hold_min_mean_max_per_minute_across_reloads() -> None:
    rng = random.Random(7)
    config = HistoryConfig(retention=3600, step=60, chunk_buckets=4, open_buckets=2)
    samples = [(T0 + i * 7.0, rng.uniform(0, 100)) for i in range(600)]  # 70 minutes
    rows = Rows()
    feed(rows, config, samples)
    state, buckets = read_buckets(KEY, config, VALUES, rows.get)
    want = expected_buckets(samples, 60)
    newest = max(want)
    kept = {i: v for i, v in want.items() if i > newest - config.retention_buckets}
    assert [b.number for b in buckets] == sorted(kept)
    for b in buckets:
        low, mean, high = kept[b.number]
        if b.number <= state.last_closed:  # closed: float32
            assert (b.min, b.max) == (f32(low), f32(high))
            assert b.mean == pytest.approx(mean, rel=1e-6)
        else:
            assert (b.min, b.mean, b.max) == pytest.approx((low, mean, high))
    assert state.last_time == samples[-1][0]
    assert state.last_value == samples[-1][1]
    assert state.labels == {"site": "a"}
    # The ring bounds the rows: slots chunk rows + meta + labels, however long it runs.
    assert len(rows) <= config.slots + 2


def test_late_sample_within_open_buckets_lands_in_its_minute() -> None:
    config = HistoryConfig(step=60, open_buckets=2)
    state = HistoryState(KEY, config)
    state.add(T0 + 10, 1.0, wall=0)
    state.add(T0 + 70, 5.0, wall=0)
    state.add(T0 + 50, 3.0, wall=0)  # late, its minute is still open
    assert [tuple(b) for b in state.open_buckets()] == [
        (int(T0 // 60), 1.0, 2.0, 3.0),
        (int(T0 // 60) + 1, 5.0, 5.0, 5.0),
    ]
    state.add(T0 + 190, 9.0, wall=0)  # closes the first minute
    state.add(T0 + 20, 4.0, wall=0)  # its minute is closed: dropped
    assert state.dropped == 1
    assert state.last_value == 9.0


def test_clock_going_back_past_the_retention_restarts_the_history() -> None:
    config = HistoryConfig(retention=600, step=60)
    rows = Rows()
    feed(rows, config, [(T0 + 30 * i, 1.0) for i in range(60)])
    feed(rows, config, [(T0 - 86_400 + 30 * i, 2.0) for i in range(10)])
    _, buckets = read_buckets(KEY, config, VALUES, rows.get)
    assert buckets and all(b.number < T0 // 60 for b in buckets)
    assert {b.mean for b in buckets} == {2.0}


def test_scores_history_keeps_its_tag_and_is_separate_from_values() -> None:
    config = HistoryConfig()
    rows = Rows()
    scores = HistoryState(KEY, config, SCORES)
    scores.add(T0, 0.9, wall=1.0, tag=b"composite")
    rows.apply(scores.flush())
    loaded, buckets = read_buckets(KEY, config, SCORES, rows.get)
    assert loaded.tag == b"composite"
    assert [b.max for b in buckets] == [0.9]
    assert read_buckets(KEY, config, VALUES, rows.get)[1] == []


def test_bytes_written_per_metric_do_not_grow_with_the_history() -> None:
    config = HistoryConfig()
    short, long_ = Rows(), Rows()
    # One metric per 10 s per batch: an hour, then a day of it.
    hour = [(T0 + 10 * i, float(i % 13)) for i in range(360)]
    day = [(T0 + 10 * i, float(i % 13)) for i in range(8640)]
    per_metric_hour = feed(short, config, hour, per_batch=1) / len(hour)
    per_metric_day = feed(long_, config, day, per_batch=1) / len(day)
    assert per_metric_day < per_metric_hour * 1.1


def test_alert_intervals_are_replaced_by_id_and_pruned() -> None:
    row = merge_intervals(None, [Interval("a1", 100.0, None, "warning")], 3600)
    row = merge_intervals(row, [Interval("a1", 100.0, 200.0, "warning")], 3600)
    row = merge_intervals(row, [Interval("a2", 10_000.0, None, "critical")], 3600)
    assert decode_intervals(row) == [Interval("a2", 10_000.0, None, "critical")]
