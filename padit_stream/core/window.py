"""Per-(source, metric) sliding window on event time, with incremental features.

Update cost is O(log n) and extraction is O(log n) apart from two features that truly need
the data: ``cusum`` (a cumulative sum in time order: one numpy pass) and ``ewma`` (a numpy
dot over the newest ``log(1e-18) / log(1 - alpha)`` samples, about 116 at alpha 0.3; older
weights are below double precision).

The moments behind ``mean``, ``std`` and ``trend`` are kept *exactly*, as integers over
power-of-two denominators (every double is such a fraction), so adding and evicting never
accumulates rounding error, and each feature is rounded once from the exact value. Features
are therefore a function of the window's content alone: a window rebuilt from the changelog
after a restart gives bit-identical features, and the result is at least as accurate as a
from-scratch numpy computation.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from sortedcontainers import SortedList

from padit_stream.core.features import FeatureSet
from padit_stream.errors import LateSampleError

__all__ = ["SlidingWindow"]

_NO_TAGS: tuple[int, ...] = ()
_QUANTILES = (25 / 100, 50 / 100, 75 / 100, 95 / 100, 99 / 100)


@lru_cache(maxsize=256)
def _ewma_weights(alpha: float, size: int) -> tuple[npt.NDArray[np.float64], float]:
    """Weights oldest→newest for the ``size`` newest samples and their sum (read-only)."""
    w = (1.0 - alpha) ** np.arange(size - 1, -1, -1, dtype=np.float64)
    w.setflags(write=False)
    return w, float(w.sum())


def _ewma_horizon(alpha: float, max_count: int) -> int:
    if alpha >= 1.0:
        return 1
    return max(1, min(max_count, math.ceil(math.log(1e-18) / math.log1p(-alpha)) + 1))


class SlidingWindow:
    """Samples of one series in event-time order, bounded by time span and count.

    Args:
        span: keep samples whose timestamp is within ``span`` seconds of the newest.
        max_count: keep at most this many samples (the oldest go first).
        lateness: a sample older than the newest by more than this is refused.
        ewma_alpha: smoothing factor of the ``ewma`` feature.

    Example:
        >>> w = SlidingWindow(span=300.0, max_count=1000)
        >>> for i in range(5):
        ...     _ = w.add(1000.0 + i, 5.0 + i)
        >>> w.features().mean
        7.0
    """

    __slots__ = (
        "_et",
        "_ewma_m",
        "_ex",
        "_head",
        "_max_ts",
        "_sorted",
        "_st",
        "_stt",
        "_stx",
        "_sx",
        "_sxx",
        "_tags",
        "_ts",
        "_xs",
        "ewma_alpha",
        "lateness",
        "max_count",
        "span",
    )

    def __init__(
        self,
        span: float = 300.0,
        max_count: int = 1000,
        lateness: float = 30.0,
        ewma_alpha: float = 0.3,
    ) -> None:
        self.span = span
        self.max_count = max_count
        self.lateness = lateness
        self.ewma_alpha = ewma_alpha
        self._ewma_m = _ewma_horizon(ewma_alpha, max_count)
        # Time-ordered samples live in [head:]; the dead prefix is dropped in bulk.
        self._ts = array("d")
        self._xs = array("d")
        self._tags = array("q")
        self._head = 0
        self._sorted = SortedList()
        self._max_ts = -math.inf
        # Exact moments: St/2^et, Stt/2^(2et), Sx/2^ex, Sxx/2^(2ex), Stx/2^(et+ex).
        self._et = 0
        self._ex = 0
        self._st = 0
        self._stt = 0
        self._sx = 0
        self._sxx = 0
        self._stx = 0

    def __len__(self) -> int:
        return len(self._ts) - self._head

    @property
    def max_ts(self) -> float:
        """Newest event time seen (``-inf`` when empty)."""
        return self._max_ts

    @property
    def first_ts(self) -> float:
        """Oldest event time in the window."""
        return self._ts[self._head]

    def add(self, ts: float, value: float, tag: int = 0) -> tuple[int, ...]:
        """Insert one sample where it belongs in event time and evict what fell out.

        ``tag`` is the caller's handle for the sample (the stream stores the chunk it
        persisted the sample in); the tags of evicted samples are returned.

        Raises:
            LateSampleError: ``ts`` is older than the newest sample by more than the allowed
                lateness, or already outside the window's span.
        """
        ts_arr = self._ts
        max_ts = self._max_ts
        if ts >= max_ts:
            ts_arr.append(ts)
            self._xs.append(value)
            self._tags.append(tag)
            self._max_ts = ts
        else:
            if ts < max_ts - self.lateness:
                raise LateSampleError(
                    f"sample at {ts} is {max_ts - ts:.3f}s older than the newest ({max_ts}); "
                    f"allowed lateness is {self.lateness}s"
                )
            if ts < max_ts - self.span:
                raise LateSampleError(
                    f"sample at {ts} is outside the window span ({self.span}s before {max_ts})"
                )
            # Ties go after samples with the same timestamp: arrival order breaks them.
            pos = bisect_right(ts_arr, ts, self._head)
            ts_arr.insert(pos, ts)
            self._xs.insert(pos, value)
            self._tags.insert(pos, tag)
        self._sorted.add(value)
        self._moments(ts, value, 1)
        return self._evict()

    def _evict(self) -> tuple[int, ...]:
        ts_arr = self._ts
        head = self._head
        cutoff = self._max_ts - self.span
        excess = len(ts_arr) - head - self.max_count
        if excess <= 0 and ts_arr[head] >= cutoff:
            return _NO_TAGS
        evicted: list[int] = []
        xs = self._xs
        remove = self._sorted.remove
        while excess > 0 or ts_arr[head] < cutoff:
            x = xs[head]
            remove(x)
            self._moments(ts_arr[head], x, -1)
            evicted.append(self._tags[head])
            head += 1
            excess -= 1
        if head > 64 and head * 2 > len(ts_arr):
            del ts_arr[:head]
            del xs[:head]
            del self._tags[:head]
            head = 0
        self._head = head
        return tuple(evicted)

    def _moments(self, t: float, x: float, sign: int) -> None:
        pt, qt = t.as_integer_ratio()
        et = qt.bit_length() - 1
        if et > self._et:
            d = et - self._et
            self._st <<= d
            self._stt <<= 2 * d
            self._stx <<= d
            self._et = et
        else:
            pt <<= self._et - et
        px, qx = x.as_integer_ratio()
        ex = qx.bit_length() - 1
        if ex > self._ex:
            d = ex - self._ex
            self._sx <<= d
            self._sxx <<= 2 * d
            self._stx <<= d
            self._ex = ex
        else:
            px <<= self._ex - ex
        if sign > 0:
            self._st += pt
            self._stt += pt * pt
            self._sx += px
            self._sxx += px * px
            self._stx += pt * px
        else:
            self._st -= pt
            self._stt -= pt * pt
            self._sx -= px
            self._sxx -= px * px
            self._stx -= pt * px

    def samples(self) -> tuple[list[float], list[float], list[int]]:
        """Timestamps, values and tags in event-time order (a copy)."""
        h = self._head
        return self._ts[h:].tolist(), self._xs[h:].tolist(), self._tags[h:].tolist()

    def _quantile(self, q: float, n: int) -> float:
        # numpy's default ("linear") method, including its two-sided lerp.
        idx = q * (n - 1)
        lo = math.floor(idx)
        a = self._sorted[lo]
        if lo + 1 >= n:
            return float(a)
        frac = idx - lo
        b = self._sorted[lo + 1]
        diff = b - a
        return float(b - diff * (1.0 - frac)) if frac >= 0.5 else float(a + diff * frac)

    def features(self) -> FeatureSet | None:
        """All features of the current window, or ``None`` when it is empty."""
        h = self._head
        n = len(self._ts) - h
        if n == 0:
            return None
        ex = self._ex
        sx = self._sx
        mean = sx / (n << ex)
        var = (n * self._sxx - sx * sx) / ((n * n) << (2 * ex))
        den = n * self._stt - self._st * self._st
        trend = ((n * self._stx - self._st * sx) << self._et) / (den << ex) if den else 0.0
        xs = np.frombuffer(self._xs, dtype=np.float64, count=n, offset=h * 8)
        c = np.cumsum(xs - mean)
        cusum = float(np.abs(c, out=c).max())
        m = min(n, self._ewma_m)
        w, wsum = _ewma_weights(self.ewma_alpha, m)
        ewma = float(np.dot(w, xs[n - m :])) / wsum
        del xs  # release the buffer export before the array may be resized
        sl = self._sorted
        p25, median, p75, p95, p99 = (self._quantile(q, n) for q in _QUANTILES)
        last = self._xs[-1]
        return FeatureSet(
            window_start=self._ts[h],
            window_end=self._ts[-1],
            count=n,
            mean=mean,
            std=math.sqrt(var),
            min=float(sl[0]),
            max=float(sl[-1]),
            median=median,
            p25=p25,
            p75=p75,
            p95=p95,
            p99=p99,
            trend=trend,
            ewma=ewma,
            gradient=last - mean,
            cusum=cusum,
            last=last,
        )
