"""The ingest stage without Kafka: decode, re-key, event-time bounds, rewind, containment."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from padit_stream.core.cache import StateCache
from padit_stream.core.clock import TimeBounds
from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.schema import DecodeLimits, encode_metric, metric_key, partition_for_key
from padit_stream.stages.ingest import Ingest
from tests.unit.stream_fakes import FakeEmit, Record, TableRows

WALL = 1_800_000_000.0  # the worker's clock in these tests
KEY = metric_key("du-1", "rtt_ms")
YEAR = 365.25 * 86400


def make(
    *, emit_every: float = 0.0, bounds: TimeBounds | None = None, rewind_after: int = 3
) -> tuple[Ingest, TableRows, FakeEmit]:
    rows = TableRows()
    emit = FakeEmit()
    config = SeriesConfig(span=300.0, max_count=1000, lateness=30.0, emit_every=emit_every)
    windows: StateCache[TableRows, SeriesState] = StateCache(
        rows, lambda key, get: SeriesState.load(key, config, get)
    )
    stage = Ingest(
        windows,
        emit,
        features_topic="features",
        metrics_topic="metrics",
        partitions=4,
        bounds=bounds or TimeBounds(max_future=300.0),
        rewind_after=rewind_after,
        limits=DecodeLimits(max_bytes=4096, max_name_chars=64),
        wall=lambda: WALL,
    )
    return stage, rows, emit


def records(points: list[tuple[float, float]], start: int = 0) -> list[Record]:
    return [
        Record("metrics", 0, start + i, KEY, encode_metric(ts, "du-1", "rtt_ms", v))
        for i, (ts, v) in enumerate(points)
    ]


def window_of(stage: Ingest) -> SeriesState:
    stage.windows.clear()  # read back what was written, not what is cached
    return stage.windows.get(0, KEY)


def test_features_come_out_and_state_is_written_once_per_slice() -> None:
    stage, rows, emit = make()
    stage(0, records([(WALL - 10 + i, float(i)) for i in range(5)]))
    assert [orjson.loads(r.value)["count"] for r in emit.on("features")] == [1, 2, 3, 4, 5]
    assert rows.writes == 1
    assert len(window_of(stage).window) == 5


def test_a_sample_thirty_years_ahead_is_refused_and_does_not_move_the_window() -> None:
    stage, _, emit = make()
    good = [(WALL - 100 + i, 1.0) for i in range(10)]
    stage(0, records([*good[:5], (WALL + 30 * YEAR, 99.0), *good[5:]]))
    assert len(emit.dead) == 1
    assert "ahead of the worker clock" in emit.reasons()[0]
    state = window_of(stage)
    assert len(state.window) == 10  # every correct sample after it was accepted
    assert state.window.max_ts == good[-1][0]


@pytest.mark.parametrize(
    ("ts", "why"),
    [
        (0.0, "before the plausible minimum"),  # a clock never set
        (-1e300, "before the plausible minimum"),
        (WALL - 3 * 86400, "old (limit"),  # older than max_age
    ],
)
def test_far_past_timestamps_are_refused(ts: float, why: str) -> None:
    stage, _, emit = make(bounds=TimeBounds(max_future=300.0, max_age=86400.0))
    stage(0, records([(WALL - 5, 1.0), (ts, 2.0), (WALL - 4, 3.0)]))
    assert len(emit.dead) == 1 and why in emit.reasons()[0]
    assert len(window_of(stage).window) == 2


def test_old_data_replays_without_an_age_bound() -> None:
    stage, _, emit = make()  # max_age 0: replays of old data are unaffected
    stage(0, records([(WALL - 5 * YEAR + i, 1.0) for i in range(3)]))
    assert emit.dead == [] and len(window_of(stage).window) == 3


def test_a_clock_that_jumps_ahead_an_hour_and_comes_back_is_refused_live() -> None:
    stage, _, emit = make()
    now = [(WALL - 60 + i, 1.0) for i in range(60)]
    ahead = [(WALL + 3600 + i, 50.0) for i in range(5)]  # device clock +1 h: in the future
    stage(0, records(now[:30] + ahead + now[30:]))
    assert len(emit.dead) == 5 and all("ahead" in r for r in emit.reasons())
    state = window_of(stage)
    assert len(state.window) == 60 and state.window.max_ts == now[-1][0]


def test_a_replayed_clock_jump_heals_after_rewind_after_late_samples() -> None:
    # In a replay the jump lies in the past, within the bounds: the window takes it, then
    # refuses the corrected samples as late until rewind_after of them restart it.
    stage, _, emit = make(rewind_after=3)
    t0 = WALL - 30 * 86400
    before = [(t0 + i, 1.0) for i in range(10)]
    jump = [(t0 + 3600 + i, 50.0) for i in range(2)]
    after = [(t0 + 10 + i, 1.0) for i in range(20)]
    stage(0, records(before + jump + after))
    assert len(emit.dead) == 3 and all("late" in r for r in emit.reasons())
    state = window_of(stage)
    assert stage.rewinds == 1
    # The window restarted on the corrected timeline: the bad samples are gone.
    assert len(state.window) == 17 and state.window.max_ts == after[-1][0]
    assert max(state.window.samples()[1]) == 1.0


def test_bad_records_go_to_dead_letters_with_bounded_reasons() -> None:
    stage, _, emit = make()
    huge_id = "x" * 100_000
    bad = [
        b"[" * 5000 + b"]" * 5000,  # deeper than orjson parses: over the size limit first
        b"[" * 1500 + b"]" * 1500,
        orjson.dumps({"timestamp": "not-a-time" + "z" * 2000, "source_id": "a",
                      "metric_name": "m", "value": 1}),
        orjson.dumps({"timestamp": WALL, "source_id": "a" * 70, "metric_name": "m", "value": 1}),
        encode_metric(WALL, huge_id, "m", 1.0),
    ]  # fmt: skip
    stage(0, [Record("metrics", 0, i, None, v) for i, v in enumerate(bad)])
    reasons = emit.reasons()
    assert len(reasons) == len(bad)
    assert all(len(r) <= 500 for r in reasons)
    assert "over the limit of 4096" in reasons[0]
    assert reasons[1] == "not JSON: nested deeper than 1024 levels"
    assert "not ISO 8601" in reasons[2] and "in all" in reasons[2]
    assert "'source_id' is 70 characters, over the limit of 64" in reasons[3]
    assert "over the limit of 4096" in reasons[4]


def test_a_wrongly_keyed_record_is_sent_again_with_the_right_key() -> None:
    stage, _, emit = make()
    value = encode_metric(WALL, "du-1", "rtt_ms", 1.0)
    stage(0, [Record("metrics", 0, 0, b"wrong", value)])
    [rekeyed] = emit.on("metrics")
    assert rekeyed.key == KEY and rekeyed.value == value
    assert rekeyed.partition == partition_for_key(KEY, 4)


def test_a_bug_on_one_record_costs_that_record_only(monkeypatch: pytest.MonkeyPatch) -> None:
    stage, _, emit = make()
    original = SeriesState.add

    def add(self: SeriesState, ts: float, value: float, offset: int = -1) -> object:
        if value == 13.0:
            raise RuntimeError("boom " + "y" * 1000)
        return original(self, ts, value, offset)

    monkeypatch.setattr(SeriesState, "add", add)
    other = metric_key("du-2", "rtt_ms")
    batch = records([(WALL - 3, 1.0), (WALL - 2, 13.0), (WALL - 1, 2.0)])
    batch.append(Record("metrics", 0, 9, other, encode_metric(WALL - 1, "du-2", "rtt_ms", 5.0)))
    stage(0, batch)
    [reason] = emit.reasons()
    assert reason.startswith("internal error: RuntimeError: boom") and len(reason) < 300
    # du-1 before and after the bug, and du-2: each once.
    assert [orjson.loads(r.value)["count"] for r in emit.on("features")] == [1, 2, 1]
    monkeypatch.setattr(SeriesState, "add", original)
    # du-1 was rebuilt from its rows and the slice: it holds every sample but the failed one.
    assert window_of(stage).window.samples()[1] == [1.0, 2.0]


@pytest.fixture
def redelivery() -> Iterator[tuple[Ingest, FakeEmit]]:
    stage, _, emit = make()
    stage(0, records([(WALL - 5 + i, 1.0) for i in range(3)]))
    yield stage, emit


def test_redelivered_records_are_skipped(redelivery: tuple[Ingest, FakeEmit]) -> None:
    stage, emit = redelivery
    before = len(emit.records)
    stage.windows.clear()
    stage(0, records([(WALL - 5 + i, 1.0) for i in range(3)]))
    assert len(emit.records) == before


def test_a_slice_delivered_again_dead_letters_and_rekeys_nothing_twice() -> None:
    stage, rows, emit = make()
    wrong_key = Record(
        "metrics", 0, 3, metric_key("other", "m"), encode_metric(WALL, "du-9", "rtt_ms", 1.0)
    )
    batch = [
        *records([(WALL - 10, 1.0)]),
        Record("metrics", 0, 1, KEY, b"{not json"),
        Record("metrics", 0, 2, KEY, encode_metric(WALL + 30 * YEAR, "du-1", "rtt_ms", 2.0)),
        wrong_key,
        *records([(WALL - 9, 3.0)], start=4),
    ]
    stage(0, batch)
    assert len(emit.dead) == 2 and len(emit.on("metrics")) == 1
    # A worker that takes over after a crash: state from the rows alone, same slice again.
    again = FakeEmit()
    stage.emit = again
    stage.reset(0)
    stage.windows.clear()
    stage(0, [*batch, Record("metrics", 0, 5, KEY, b"{late but new")])
    assert [d.headers["padit-offset"] for d in again.dead] == [b"5"]
    assert again.on("metrics") == []
    assert len(window_of(stage).window) == 2  # the good ones, once
    assert rows.writes >= 2
