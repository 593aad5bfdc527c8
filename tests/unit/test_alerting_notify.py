"""Delivery, outbox and stats with a scripted in-memory notifier (no network)."""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import pytest

from padit_stream.alerting.config import DeliveryConfig
from padit_stream.alerting.nflog import Outbox, OutboxEntry
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify.base import DeliveryError, Notifier
from padit_stream.alerting.notify.delivery import Delivery
from padit_stream.alerting.notify.stats import DeliveryStats
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert


class Scripted(Notifier):
    """Renders one message per alert; ``script`` holds the errors of the next sends."""

    kind = "scripted"

    def __init__(self, name: str = "team/scripted[0]") -> None:
        super().__init__(name, send_resolved=True)
        self.script: deque[DeliveryError | None] = deque()
        self.down = False
        self.delivered: list[tuple[str, str]] = []
        self.tries = 0

    def render(self, notification: Notification) -> list[Any]:
        return [(notification.id, a.fingerprint) for a in notification.alerts]

    async def send(self, message: Any, now: float) -> None:
        self.tries += 1
        if self.down:
            raise DeliveryError("connection refused", retryable=True)
        error = self.script.popleft() if self.script else None
        if error is not None:
            raise error
        self.delivered.append(message)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def alert(fp: str, status: str = "firing") -> Alert:
    return Alert(
        alert_id=f"id-{fp}",
        fingerprint=fp,
        timestamp=1.0,
        source_id="ru-1",
        metric_name=fp,
        detector="z",
        severity="warning",
        status=status,  # type: ignore[arg-type]
        title="t",
        description="d",
        score=0.8,
        peak_score=0.8,
        starts_at=1.0,
        labels={"source_id": "ru-1"},
    )


def notification(seq: int, *fps: str, status: str = "firing", repeat: bool = False) -> Notification:
    return Notification(
        id=f"g-{seq}",
        receiver="team",
        group_key='{}:{source_id="ru-1"}',
        group_labels={"source_id": "ru-1"},
        status=status,  # type: ignore[arg-type]
        alerts=tuple(alert(fp, status) for fp in fps or ("a",)),
        created_at=1000.0,
        repeat=repeat,
    )


def make(
    notifier: Scripted | None = None, outbox: Outbox | None = None, **cfg: Any
) -> tuple[Delivery, Scripted, Clock, dict[str, bytes]]:
    notifier = notifier or Scripted()
    clock = Clock()
    table: dict[str, bytes] = {}

    def on_change(key: str, entry: OutboxEntry | None) -> None:
        if entry is None:
            table.pop(key, None)
        else:
            table[key] = entry.encode()

    config = DeliveryConfig(**{"initial_backoff": 1.0, "max_backoff": 60.0, **cfg})
    delivery = Delivery(
        config,
        {"team": [notifier]},
        outbox,
        on_change=on_change,
        clock=clock,
        sleep=clock.sleep,
    )
    return delivery, notifier, clock, table


async def test_sends_and_counts() -> None:
    d, n, _, table = make()
    await d.deliver(notification(1, "a", "b"))
    assert n.delivered == [("g-1", "a"), ("g-1", "b")]
    assert d.stats.to_dict(d.outbox)["integrations"]["team/scripted[0]"] == {
        "sent": 1,
        "retried": 0,
        "failed": 0,
        "pending": 0,
        "last_error": "",
        "last_sent_at": 1000.0,
    }
    assert table == {} and len(d.outbox) == 0


async def test_retries_with_exponential_backoff_then_succeeds() -> None:
    d, n, clock, _ = make(max_attempts=3)
    n.script.extend([DeliveryError("503", True), DeliveryError("503", True)])
    await d.deliver(notification(1))
    assert clock.slept == [1.0, 2.0]
    assert n.delivered == [("g-1", "a")]
    stats = d.stats.to_dict(d.outbox)
    assert (stats["sent"], stats["retried"], stats["failed"], stats["pending"]) == (1, 2, 0, 0)


async def test_honours_retry_after() -> None:
    d, n, clock, _ = make(max_attempts=3, initial_backoff=5.0)
    n.script.append(DeliveryError("429", True, retry_after=7.0))
    await d.deliver(notification(1))
    assert clock.slept == [7.0] and n.delivered == [("g-1", "a")]


async def test_long_retry_after_is_scheduled_not_slept_and_capped() -> None:
    d, n, clock, _ = make(max_attempts=3, max_retry_after=120.0)
    n.script.append(DeliveryError("429", True, retry_after=3600.0))
    await d.deliver(notification(1))
    assert clock.slept == [] and n.delivered == []
    assert d.next_attempt() == 1000.0 + 120.0
    clock.now += 119.0
    await d.flush()
    assert n.delivered == []
    clock.now += 1.0
    await d.flush()
    assert n.delivered == [("g-1", "a")]


async def test_permanent_error_is_dropped_and_counted_failed() -> None:
    d, n, clock, table = make()
    n.script.append(DeliveryError("400 invalid_payload", False))
    await d.deliver(notification(1))
    await d.deliver(notification(2))
    assert n.delivered == [("g-2", "a")]
    stats = d.stats.to_dict(d.outbox)
    assert (stats["sent"], stats["failed"], stats["pending"]) == (1, 1, 0)
    assert "invalid_payload" in stats["integrations"]["team/scripted[0]"]["last_error"]
    assert clock.slept == [] and table == {}


async def test_outage_keeps_order_and_delivers_each_once() -> None:
    d, n, clock, table = make(max_attempts=2)
    n.down = True
    await d.deliver(notification(1, "a"))
    await d.deliver(notification(2, "a", status="resolved"))
    assert n.delivered == [] and len(d.outbox) == 2
    assert d.stats.to_dict(d.outbox)["pending"] == 2
    # The second notification is not tried while the first waits.
    assert n.tries == 2
    for _ in range(5):
        clock.now += 60.0
        await d.flush()
    n.down = False
    clock.now += 60.0
    await d.flush()
    await d.flush()
    assert n.delivered == [("g-1", "a"), ("g-2", "a")]
    assert table == {} and len(d.outbox) == 0
    stats = d.stats.to_dict(d.outbox)
    assert (stats["sent"], stats["failed"], stats["pending"]) == (2, 0, 0)
    assert stats["retried"] > 0


async def test_backoff_grows_between_flushes_up_to_the_cap() -> None:
    d, n, clock, _ = make(max_attempts=1, initial_backoff=1.0, max_backoff=8.0)
    n.down = True
    await d.deliver(notification(1))
    waits = []
    for _ in range(6):
        nxt = d.next_attempt()
        assert nxt is not None
        waits.append(nxt - clock.now)
        clock.now = nxt
        await d.flush()
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


async def test_retry_resumes_after_the_parts_already_sent() -> None:
    d, n, clock, table = make(max_attempts=1)
    n.script.extend([None, DeliveryError("502", True)])
    await d.deliver(notification(1, "a", "b", "c"))
    assert n.delivered == [("g-1", "a")]
    (stored,) = table.values()
    assert OutboxEntry.decode(stored).parts_done == 1
    clock.now += 10.0
    await d.flush()
    assert n.delivered == [("g-1", "a"), ("g-1", "b"), ("g-1", "c")]


async def test_outbox_survives_a_restart() -> None:
    d, n, clock, table = make(max_attempts=1)
    n.down = True
    await d.deliver(notification(1, "a"))
    await d.deliver(notification(2, "a", status="resolved"))
    # Restart: rebuild the outbox from the table rows, and from the whole-outbox bytes.
    for outbox in (
        Outbox(OutboxEntry.decode(v) for v in table.values()),
        Outbox.decode(d.outbox.encode()),
    ):
        fresh = Scripted()
        d2, _, clock2, _ = make(fresh, outbox)
        clock2.now = clock.now + 3600.0
        await d2.flush()
        assert fresh.delivered == [("g-1", "a"), ("g-2", "a")]


async def test_duplicate_and_replayed_notifications_are_sent_once() -> None:
    d, n, _, _ = make()
    await d.deliver(notification(1))
    await d.deliver(notification(1))
    restored = Outbox.decode(d.outbox.encode())
    d2, n2, _, _ = make(Scripted(), restored)
    await d2.deliver(notification(1))
    assert n.delivered == [("g-1", "a")] and n2.delivered == []


async def test_repeat_is_dropped_while_the_group_waits_in_the_outbox() -> None:
    d, n, _, _ = make(max_attempts=1)
    n.down = True
    await d.deliver(notification(1))
    await d.deliver(notification(2, repeat=True))
    assert len(d.outbox) == 1
    await d.deliver(notification(3, "a", status="resolved"))
    assert len(d.outbox) == 2


async def test_gives_up_after_the_limit_and_bounds_the_outbox() -> None:
    d, n, clock, _ = make(max_attempts=1, give_up_after=600.0, max_outbox=2)
    n.down = True
    for i in range(3):
        await d.deliver(notification(i))
    assert len(d.outbox) == 2 and d.stats.failed["team/scripted[0]"] == 1
    clock.now += 601.0
    n.down = False
    await d.flush()
    assert n.delivered == [] and len(d.outbox) == 0
    assert d.stats.failed["team/scripted[0]"] == 3


async def test_unknown_receiver_is_ignored() -> None:
    d, n, _, _ = make()
    other = replace(notification(1), receiver="nobody")
    await d.deliver(other)
    assert n.delivered == [] and len(d.outbox) == 0


def test_stats_and_decode_errors() -> None:
    assert DeliveryStats().to_dict() == {
        "sent": 0,
        "retried": 0,
        "failed": 0,
        "pending": 0,
        "integrations": {},
    }
    with pytest.raises(DecodeError):
        Outbox.decode(b"nope")
    with pytest.raises(DecodeError):
        OutboxEntry.decode(b"{}")


async def test_a_broken_notifier_fails_its_entries_without_stopping() -> None:
    class Broken(Scripted):
        async def send(self, message: Any, now: float) -> None:
            raise RuntimeError("bug")

    d, _, _, table = make(Broken())
    await d.deliver(notification(1))
    await d.deliver(notification(2))
    stats = d.stats.to_dict(d.outbox)
    assert (stats["failed"], stats["pending"]) == (2, 0)
    assert "RuntimeError" in stats["integrations"]["team/scripted[0]"]["last_error"]
    assert table == {}
