"""Event time that a bad clock cannot poison: plausible bounds and per-partition clocks.

A device with a wrong clock is common in the field. One sample dated thirty years ahead must
not become the newest sample of its window (every correct sample after it would then be
"late"), nor the "now" that stale alerts are resolved against. A sample is accepted only if
its timestamp lies in ``[floor, ceiling]``, where the ceiling is the worker's wall clock plus
``max_future`` and the floor is the later of ``min_timestamp`` and the wall clock minus
``max_age`` (when set). Replays of old data stay within the bounds: only the future is tied
to the wall clock by default.

The bounds are computed once per batch (:meth:`TimeBounds.at`), so the per-record check is
two float comparisons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["EventClocks", "TimeBounds"]


def _iso(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{ts:.6g}"


@dataclass(frozen=True, slots=True)
class TimeBounds:
    """The plausible range of event time, relative to the worker's wall clock.

    Example:
        >>> bounds = TimeBounds(max_future=300.0, min_timestamp=946_684_800.0)
        >>> lo, hi = bounds.at(1_800_000_000.0)
        >>> lo <= 1_799_999_000.0 <= hi, hi < 1_800_000_301.0
        (True, True)
        >>> bounds.why(2_800_000_000.0, 1_800_000_000.0)
        'timestamp 2058-09-23T09:46:40Z is 1000000000 s ahead of the worker clock (limit 300 s)'
    """

    max_future: float = 300.0
    min_timestamp: float = 946_684_800.0  # 2000-01-01T00:00:00Z
    max_age: float = 0.0  # 0: no bound

    def at(self, wall: float) -> tuple[float, float]:
        """``(floor, ceiling)`` of acceptable timestamps when the wall clock reads ``wall``."""
        floor = self.min_timestamp
        if self.max_age > 0:
            floor = max(floor, wall - self.max_age)
        return floor, wall + self.max_future

    def why(self, ts: float, wall: float) -> str | None:
        """Why ``ts`` is refused (``None`` when it is within bounds); for the dead letter."""
        floor, ceiling = self.at(wall)
        if ts > ceiling:
            return (
                f"timestamp {_iso(ts)} is {ts - wall:.0f} s ahead of the worker clock "
                f"(limit {self.max_future:.0f} s)"
            )
        if ts < self.min_timestamp:
            return (
                f"timestamp {_iso(ts)} is before the plausible minimum {_iso(self.min_timestamp)}"
            )
        if ts < floor:
            return f"timestamp {_iso(ts)} is {wall - ts:.0f} s old (limit {self.max_age:.0f} s)"
        return None


class EventClocks:
    """The newest plausible event time seen, per partition.

    Stale-alert resolution and other "now"-based decisions of a partition use its own clock,
    so one partition's replay of old data or one bad timestamp does not move another's.
    Times beyond the bounds' ceiling are ignored.

    Example:
        >>> clocks = EventClocks(TimeBounds(max_future=60.0))
        >>> clocks.see(0, 1_000_000_000.0, wall=1_000_000_000.0)
        >>> clocks.see(0, 9e18, wall=1_000_000_000.0)  # a wrong clock: ignored
        >>> clocks.now(0), clocks.now(1)
        (1000000000.0, -inf)
    """

    def __init__(self, bounds: TimeBounds) -> None:
        self.bounds = bounds
        self._now: dict[int, float] = {}

    def see(self, partition: int, ts: float, wall: float) -> None:
        floor, ceiling = self.bounds.at(wall)
        if floor <= ts <= ceiling and ts > self._now.get(partition, -math.inf):
            self._now[partition] = ts

    def now(self, partition: int) -> float:
        return self._now.get(partition, -math.inf)

    def partitions(self) -> list[int]:
        return list(self._now)

    def forget(self, partition: int) -> None:
        """Drop a partition's clock (it moved to another worker)."""
        self._now.pop(partition, None)
