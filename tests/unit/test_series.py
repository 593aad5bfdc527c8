"""Series state: persistence rows, rebuild after restart, batching, changelog size."""

from __future__ import annotations

import itertools
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from padit_stream.core.series import SeriesConfig, SeriesState, chunk_key
from padit_stream.errors import LateSampleError
from padit_stream.schema import metric_key
from tests.unit.changelog import Rows

KEY = metric_key("du-1", "rtt_ms")
T0 = 1_700_000_000.0


def feed(state: SeriesState, samples: list[tuple[float, float]], start: int) -> list[object]:
    out: list[object] = []
    for i, (ts, v) in enumerate(samples):
        try:
            out.append(state.add(ts, v, start + i))
        except LateSampleError:
            out.append("late")
    return out


samples_st = st.lists(
    st.tuples(st.integers(-40_000, 5_000).map(lambda ms: ms / 1000), st.floats(-100, 100)),
    min_size=1,
    max_size=400,
)


@settings(max_examples=150, deadline=None)
@given(
    steps=samples_st,
    cuts=st.lists(st.integers(0, 400), max_size=6),
    restarts=st.sets(st.integers(0, 6)),
    max_count=st.sampled_from([1, 5, 50]),
    emit_every=st.sampled_from([0.0, 3.0, 60.0]),
)
def test_rebuilt_series_equals_uninterrupted_one(
    steps: list[tuple[float, float]],
    cuts: list[int],
    restarts: set[int],
    max_count: int,
    emit_every: float,
) -> None:
    config = SeriesConfig(span=20.0, max_count=max_count, lateness=30.0, emit_every=emit_every)
    clock = T0
    samples = []
    for step, value in steps:
        clock += max(step, 0.0)
        samples.append((clock + min(step, 0.0), value))
    bounds = sorted({0, len(samples), *(c for c in cuts if c < len(samples))})
    batches = [samples[a:b] for a, b in itertools.pairwise(bounds)]

    # One by one, never restarted.
    solo = SeriesState(KEY, config)
    solo_out = feed(solo, samples, 0)

    # In batches, flushed once per batch, rebuilt from the rows at some batch boundaries.
    rows = Rows()
    state = SeriesState(KEY, config)
    out: list[object] = []
    done = 0
    for n, batch in enumerate(batches):
        if n in restarts:
            state = SeriesState.load(KEY, config, rows.get)
        out += feed(state, batch, done)
        done += len(batch)
        rows.apply(state.flush())
    assert out == solo_out  # same features at the same metrics, same refusals
    rebuilt = SeriesState.load(KEY, config, rows.get)
    assert rebuilt.window.samples()[:2] == solo.window.samples()[:2]
    assert rebuilt.window.features() == solo.window.features()
    assert rebuilt.last_emit == solo.last_emit
    # No row outlives its samples: only the meta row (with the open tail) and sealed chunks
    # with live samples remain.
    sealed = set(rebuilt.window.samples()[2]) - {rebuilt.next_chunk}
    assert len(rows) == 1 + len(sealed)


def test_redelivered_offsets_are_ignored() -> None:
    state = SeriesState(KEY, SeriesConfig(emit_every=0))
    state.add(T0, 1.0, offset=10)
    state.add(T0 + 1, 2.0, offset=11)
    assert state.add(T0 + 1, 2.0, offset=11) is None  # at-least-once redelivery
    assert len(state.window) == 2
    rows = Rows()
    rows.apply(state.flush())
    again = SeriesState.load(KEY, state.config, rows.get)
    assert again.add(T0 + 1, 2.0, offset=11) is None
    assert again.add(T0 + 2, 3.0, offset=12) is not None
    assert len(again.window) == 3


@pytest.mark.parametrize("window", [100, 1_000, 10_000])
def test_changelog_bytes_per_metric_do_not_grow_with_the_window(window: int) -> None:
    config = SeriesConfig(span=1e9, max_count=window, emit_every=60.0)
    rng = random.Random(1)
    state = SeriesState(KEY, config)
    rows = Rows()
    for i in range(window):  # fill the window, batches of 10
        state.add(T0 + i, rng.random(), i)
        if i % 10 == 9:
            rows.apply(state.flush())
    written = 0
    n = 2_000
    for i in range(window, window + n):
        state.add(T0 + i, rng.random(), i)
        if i % 10 == 9:
            written += rows.apply(state.flush())
    per_metric = written / n
    # Per metric: a 16-byte sample and its chunk key, a tombstone, a tenth of a meta row.
    assert per_metric < 100, per_metric
    assert len(rows) <= window // 10 + 2


@pytest.mark.parametrize("restart_every", [1, 7, 40])
def test_one_sample_per_batch_costs_about_one_row_per_metric(restart_every: int) -> None:
    # The usual shape in the stream: each series gets one sample per batch.
    config = SeriesConfig(span=50.0, max_count=30, emit_every=0.0)
    rng = random.Random(restart_every)
    samples = [(T0 + i + rng.random() * 3, rng.gauss(10, 2)) for i in range(400)]
    solo = SeriesState(KEY, config)
    solo_out = feed(solo, samples, 0)
    rows = Rows()
    state = SeriesState(KEY, config)
    out: list[object] = []
    written_rows = 0
    for i, sample in enumerate(samples):
        if i % restart_every == 0:
            state = SeriesState.load(KEY, config, rows.get)
        out += feed(state, [sample], i)
        batch_rows = state.flush()
        written_rows += len(batch_rows)
        rows.apply(batch_rows)
    assert out == solo_out
    assert SeriesState.load(KEY, config, rows.get).window.features() == solo.window.features()
    # One meta row per metric, plus a sealed chunk and its later tombstone per tail.
    assert written_rows / len(samples) < 1.2, written_rows


def test_version_1_meta_rows_still_load() -> None:
    # Version 1 (no tail in the meta row): chunks 0..next_chunk-1 hold every sample.
    config = SeriesConfig(span=1e6, max_count=100, emit_every=0.0)
    samples = [(T0 + i, float(i)) for i in range(10)]
    rows = Rows()
    rows[chunk_key(KEY, 0)] = struct.pack("<10d", *(x for s in samples[:5] for x in s))
    rows[chunk_key(KEY, 1)] = struct.pack("<10d", *(x for s in samples[5:] for x in s))
    rows[KEY] = struct.pack("<Bqqdqddd", 1, 2, 0, T0 + 9, 9, 9.0, 0.0, 0.0)
    state = SeriesState.load(KEY, config, rows.get)
    solo = SeriesState(KEY, config)
    feed(solo, samples, 0)
    assert state.window.samples()[:2] == solo.window.samples()[:2]
    assert state.add(T0 + 9, 1.0, offset=9) is None  # offset 9 was applied already
    rows.apply(state.flush())
    assert (
        SeriesState.load(KEY, config, rows.get).window.samples()[:2] == (state.window.samples()[:2])
    )
