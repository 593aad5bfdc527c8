"""Counters to per-second rates and histogram buckets to quantiles, between two scrapes.

Pure code. A counter that went down was reset (the target restarted): that interval gives no
rate rather than a negative or invented one. Quantiles come from the bucket increments of the
interval, interpolated inside the bucket as Prometheus' ``histogram_quantile`` does.
"""

from __future__ import annotations

import math

__all__ = ["CounterRates", "bucket_quantile"]


class CounterRates:
    """Remembers the last value of each counter series.

    Example:
        >>> r = CounterRates()
        >>> r.update("x", 10, 0.0), r.update("x", 30, 10.0), r.update("x", 5, 20.0)
        (None, 2.0, None)
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, float]] = {}

    def update(self, key: str, value: float, ts: float) -> float | None:
        """Rate since the previous value of ``key``; ``None`` first, on a reset or no time."""
        prev = self._last.get(key)
        self._last[key] = (value, ts)
        if prev is None or ts <= prev[1] or value < prev[0]:
            return None
        return (value - prev[0]) / (ts - prev[1])

    def forget_except(self, keys: set[str]) -> None:
        """Drop series that were not in the last scrape (bounded memory)."""
        for k in [k for k in self._last if k not in keys]:
            del self._last[k]


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The ``q`` quantile from cumulative ``(upper_bound, count)`` buckets (``+Inf`` last).

    ``None`` when the buckets hold no observation. Within a bucket the observations are
    taken as evenly spread; the lowest bucket starts at 0 (or at its bound if negative); a
    quantile in the ``+Inf`` bucket is the highest finite bound.

    Example:
        >>> bucket_quantile(0.5, [(1.0, 2), (2.0, 6), (math.inf, 8)])
        1.5
    """
    if not buckets or not 0 <= q <= 1:
        return None
    buckets = sorted(buckets)
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for i, (bound, count) in enumerate(buckets):
        if count >= rank:
            if math.isinf(bound):
                return buckets[i - 1][0] if i > 0 else None
            lower = prev_bound if i > 0 else min(0.0, bound)
            in_bucket = count - prev_count
            if in_bucket <= 0:
                return bound
            return lower + (bound - lower) * (rank - prev_count) / in_bucket
        prev_bound, prev_count = bound, count
    return buckets[-1][0]
