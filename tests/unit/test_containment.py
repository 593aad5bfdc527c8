"""No record can stop the stream: slices, the shutdown watchdog and the health check."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from padit_stream.cluster import health
from padit_stream.consumer import BulkAgent, run_contained
from padit_stream.errors import StreamStalledError
from padit_stream.worker import EXIT_FORCED, Watchdog
from tests.unit.stream_fakes import FakeEmit, Record


def slice_of(n: int) -> list[Record]:
    return [Record("metrics", 0, i, b"k", b"%d" % i) for i in range(n)]


class Handler:
    """Applies records, but raises for the ones in ``poison`` (outside any per-record catch)."""

    def __init__(self, poison: set[int]) -> None:
        self.poison = poison
        self.applied: list[int] = []
        self.resets = 0

    def __call__(self, partition: int, records: Sequence[Any]) -> None:
        for r in records:
            if r.offset in self.poison:
                raise OSError("the disk said no")
            self.applied.append(r.offset)

    def reset(self, partition: int) -> None:
        self.resets += 1


def test_a_slice_that_raises_is_run_again_record_by_record() -> None:
    handler = Handler(poison={3})
    emit = FakeEmit()
    failed = run_contained(BulkAgent(handler, "window", handler.reset), 0, slice_of(6), emit)  # type: ignore[arg-type]
    assert failed == 1
    assert emit.reasons() == ["internal error: OSError: the disk said no"]
    assert [r.headers["padit-offset"] for r in emit.dead] == [b"3"]
    # 0-2 applied in the failed pass (and again alone: state was reset between), then the rest.
    assert handler.applied == [0, 1, 2, 0, 1, 2, 4, 5] and handler.resets == 2


def test_when_every_record_fails_alone_the_fault_is_the_workers() -> None:
    handler = Handler(poison=set(range(4)))
    emit = FakeEmit()
    with pytest.raises(StreamStalledError):
        run_contained(BulkAgent(handler, "window", handler.reset), 0, slice_of(4), emit)  # type: ignore[arg-type]


def test_the_watchdog_ends_a_shutdown_that_does_not_complete() -> None:
    exits: list[int] = []
    half = threading.Event()
    done = threading.Event()

    def exit_(code: int) -> None:
        exits.append(code)
        done.set()

    dog = Watchdog(0.2, on_half_time=half.set, exit=exit_)
    dog.arm("signal SIGTERM")
    dog.arm("a second reason keeps the first deadline")
    assert done.wait(5)
    assert half.is_set() and exits == [EXIT_FORCED] and dog.reason == "signal SIGTERM"


def test_an_unarmed_watchdog_does_nothing() -> None:
    exits: list[int] = []
    Watchdog(0.05, exit=exits.append)
    time.sleep(0.1)
    assert exits == []


def app_with(consumer: Any = None, crash: BaseException | None = None) -> Any:
    return SimpleNamespace(crash_reason=crash, _consumer=consumer, sender=None)


def test_health_is_ok_when_the_stream_keeps_up() -> None:
    ok, info = health(app_with(SimpleNamespace(stalled_for=lambda: 3.0)), stall_timeout=60)
    assert ok and info["status"] == "ok"


def test_health_fails_when_input_waits_and_nothing_moves() -> None:
    ok, info = health(app_with(SimpleNamespace(stalled_for=lambda: 61.0)), stall_timeout=60)
    assert not ok and info["status"] == "stalled" and "61 s" in info["reason"]


def test_health_fails_after_a_crash() -> None:
    ok, info = health(app_with(crash=RuntimeError("producer buffer")), stall_timeout=60)
    assert not ok and info["status"] == "crashed" and "producer buffer" in info["reason"]
