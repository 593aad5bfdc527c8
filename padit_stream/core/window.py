"""Per-(source, metric) sliding window on event time, with incremental features.

Every update is O(log n) (a sorted-list insert and evictions) and extracting every feature
is O(log n) (quantiles by index in the sorted list); nothing walks the window.

The moments behind ``mean``, ``std`` and ``trend`` are kept *exactly*, as integers over
power-of-two denominators (every double is such a fraction), so adding and evicting never
accumulates rounding error and each feature is rounded once from its exact value: these
features are a function of the window's content alone and at least as accurate as numpy's.

``ewma`` and ``cusum`` are the online statistics of process control, updated once per sample
in arrival order (see :mod:`padit_stream.core.features` for the definitions); their state is
three floats that the stream persists with the window.
"""

from __future__ import annotations

import contextlib
import math
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from functools import lru_cache, partial

from sortedcontainers import SortedList

from padit_stream.core.features import FeatureSet
from padit_stream.errors import LateSampleError

__all__ = ["SlidingWindow"]

_NO_TAGS: tuple[int, ...] = ()
_PLAIN_LIST_MAX = 4096


@lru_cache(maxsize=1024)
def _positions(n: int) -> tuple[tuple[int, int, float], ...]:
    """For each quantile of a window of ``n``: lower index, upper index, fraction."""
    out = []
    for q in _QUANTILES:
        idx = q * (n - 1)
        lo = math.floor(idx)
        out.append((lo, min(lo + 1, n - 1), idx - lo))
    return tuple(out)


_FLOAT_SAFE_BITS = 1000  # ints this small convert to float without overflow


def _ratio(num: int, den: int) -> float:
    """``num / den`` from exact integers: three roundings when they fit a double, else one."""
    if num.bit_length() < _FLOAT_SAFE_BITS and den.bit_length() < _FLOAT_SAFE_BITS:
        return float(num) / float(den)
    return num / den


_QUANTILES = (25 / 100, 50 / 100, 75 / 100, 95 / 100, 99 / 100)


class SlidingWindow:
    """Samples of one series in event-time order, bounded by time span and count.

    Args:
        span: keep samples whose timestamp is within ``span`` seconds of the newest.
        max_count: keep at most this many samples (the oldest go first).
        lateness: a sample older than the newest by more than this is refused.
        ewma_alpha: smoothing factor of the ``ewma`` feature.
        cusum_slack: CUSUM allowance ``k`` in standard deviations of the window.

    Example:
        >>> w = SlidingWindow(span=300.0, max_count=1000)
        >>> for i in range(5):
        ...     _ = w.add(1000.0 + i, 5.0 + i)
        >>> w.features().mean
        7.0
    """

    __slots__ = (
        "_et",
        "_ex",
        "_head",
        "_max_ts",
        "_sorted",
        "_sorted_add",
        "_sorted_lists",
        "_sorted_remove",
        "_st",
        "_stats",
        "_stats_n",
        "_stats_of",
        "_stats_sxx",
        "_stt",
        "_stx",
        "_sx",
        "_sxx",
        "_tags",
        "_ts",
        "_xs",
        "cusum_neg",
        "cusum_pos",
        "cusum_slack",
        "ewma",
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
        cusum_slack: float = 0.5,
    ) -> None:
        self.span = span
        self.max_count = max_count
        self.lateness = lateness
        self.ewma_alpha = ewma_alpha
        self.cusum_slack = cusum_slack
        # Online statistics, in arrival order (persisted by the caller, not derivable).
        self.ewma = math.nan
        self.cusum_pos = 0.0
        self.cusum_neg = 0.0
        # Mean and std of the last features() call, and the exact sums they came from.
        self._stats = (0.0, 0.0)
        self._stats_n = -1
        self._stats_of: int | None = None
        self._stats_sxx: int | None = None
        # Time-ordered samples live in [head:]; the dead prefix is dropped in bulk.
        self._ts = array("d")
        self._xs = array("d")
        self._tags = array("q")
        self._head = 0
        # Values in order. Up to a few thousand, one plain list (bisect + memmove of at most
        # 32 KiB) costs less than SortedList's bookkeeping; beyond, SortedList keeps O(log n).
        self._sorted_add: Callable[[float], None]
        self._sorted_remove: Callable[[float], None]
        self._sorted_lists: list[list[float]]
        if max_count <= _PLAIN_LIST_MAX:
            plain: list[float] = []
            self._sorted = plain
            self._sorted_add = partial(insort, plain)
            self._sorted_remove = lambda v: plain.__delitem__(bisect_left(plain, v))
            self._sorted_lists = [plain]
        else:
            sl = SortedList()
            self._sorted = sl
            self._sorted_add = sl.add
            self._sorted_remove = sl.remove
            self._sorted_lists = sl._lists
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
        n = len(ts_arr) - self._head
        if n and ts < max_ts - self.lateness:
            raise LateSampleError(
                f"sample at {ts} is {max_ts - ts:.3f}s older than the newest ({max_ts}); "
                f"allowed lateness is {self.lateness}s"
            )
        if n and ts < max_ts - self.span:
            raise LateSampleError(
                f"sample at {ts} is outside the window span ({self.span}s before {max_ts})"
            )
        # EWMA and two-sided CUSUM, against the window as it was before this sample.
        if n == 0:
            self.ewma = value
        else:
            # This form of the recursion leaves a constant series exactly constant.
            self.ewma += self.ewma_alpha * (value - self.ewma)
            sx = self._sx
            if self._stats_of is sx and self._stats_n == n and self._stats_sxx is self._sxx:
                mean, std = self._stats  # what features() just computed for this content
            else:
                ex = self._ex
                mean = sx / (n << ex)  # exact division: a constant series has z == 0
                std = math.sqrt(_ratio(n * self._sxx - sx * sx, (n * n) << (2 * ex)))
            z = value - mean
            k = self.cusum_slack * std
            self.cusum_pos = max(0.0, self.cusum_pos + z - k)
            self.cusum_neg = max(0.0, self.cusum_neg - z - k)
        if ts >= max_ts:
            ts_arr.append(ts)
            self._xs.append(value)
            self._tags.append(tag)
            self._max_ts = ts
        else:
            # Ties go after samples with the same timestamp: arrival order breaks them.
            pos = bisect_right(ts_arr, ts, self._head)
            ts_arr.insert(pos, ts)
            self._xs.insert(pos, value)
            self._tags.insert(pos, tag)
        self._sorted_add(value)
        # Steady state: one sample in, the oldest out (by count or by span); update the sums
        # for both at once.
        head = self._head
        size = len(ts_arr) - head
        cutoff = self._max_ts - self.span
        excess = size - self.max_count
        if (
            size > 1
            and excess <= 1
            and ts_arr[head + 1] >= cutoff
            and (excess == 1 or ts_arr[head] < cutoff)
        ):
            xs = self._xs
            t_out = ts_arr[head]
            x_out = xs[head]
            plain = self._sorted
            if type(plain) is list:
                del plain[bisect_left(plain, x_out)]
            else:
                self._sorted_remove(x_out)
            self._swap(ts, value, t_out, x_out)
            evicted = (self._tags[head],)
            self._head = head + 1
            if head > 64 and head * 2 > len(ts_arr):
                self._compact()
            return evicted
        self._moments(ts, value, 1)
        return self._evict()

    def _compact(self) -> None:
        head = self._head
        del self._ts[:head]
        del self._xs[:head]
        del self._tags[:head]
        self._head = 0

    def _swap(self, t_in: float, x_in: float, t_out: float, x_out: float) -> None:
        p1, q1 = t_in.as_integer_ratio()
        p0, q0 = t_out.as_integer_ratio()
        e1 = q1.bit_length() - 1
        e0 = q0.bit_length() - 1
        et = self._et
        if e1 > et or e0 > et:
            d = max(e1, e0) - et
            self._st <<= d
            self._stt <<= 2 * d
            self._stx <<= d
            et = self._et = et + d
        p1 <<= et - e1
        p0 <<= et - e0
        a1, r1 = x_in.as_integer_ratio()
        a0, r0 = x_out.as_integer_ratio()
        f1 = r1.bit_length() - 1
        f0 = r0.bit_length() - 1
        ex = self._ex
        if f1 > ex or f0 > ex:
            d = max(f1, f0) - ex
            self._sx <<= d
            self._sxx <<= 2 * d
            self._stx <<= d
            ex = self._ex = ex + d
        a1 <<= ex - f1
        a0 <<= ex - f0
        self._st += p1 - p0
        self._stt += p1 * p1 - p0 * p0
        self._sx += a1 - a0
        self._sxx += a1 * a1 - a0 * a0
        self._stx += p1 * a1 - p0 * a0

    def restore_online(self, ewma: float, cusum_pos: float, cusum_neg: float) -> None:
        """Set the online statistics (after a rebuild from persisted samples)."""
        self.ewma = ewma
        self.cusum_pos = cusum_pos
        self.cusum_neg = cusum_neg

    def _evict(self) -> tuple[int, ...]:
        ts_arr = self._ts
        head = self._head
        cutoff = self._max_ts - self.span
        excess = len(ts_arr) - head - self.max_count
        if excess <= 0 and ts_arr[head] >= cutoff:
            return _NO_TAGS
        evicted: list[int] = []
        xs = self._xs
        remove = self._sorted_remove
        while excess > 0 or ts_arr[head] < cutoff:
            x = xs[head]
            remove(x)
            self._moments(ts_arr[head], x, -1)
            evicted.append(self._tags[head])
            head += 1
            excess -= 1
        self._head = head
        if head > 64 and head * 2 > len(ts_arr):
            self._compact()
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

    def _quantiles(self, n: int) -> list[float]:
        # numpy's default ("linear") method, including its two-sided lerp. The order
        # statistics are read in one walk over the sorted list's sublists (its positional
        # index costs ~1 µs a lookup); ascending positions make that a single pass.
        lists = self._sorted_lists
        wanted = _positions(n)
        if len(lists) == 1:
            flat = lists[0]
            out = []
            for lo, hi, frac in wanted:
                a = flat[lo]
                diff = flat[hi] - a
                out.append(flat[hi] - diff * (1.0 - frac) if frac >= 0.5 else a + diff * frac)
            return out
        else:
            values = {}
            positions = sorted({p for lo, hi, _ in wanted for p in (lo, hi)})
        if positions:
            it = iter(positions)
            pos = next(it)
            base = 0
            with contextlib.suppress(StopIteration):
                for sub in lists:
                    end = base + len(sub)
                    while pos < end:
                        values[pos] = sub[pos - base]
                        pos = next(it)
                    base = end
        out = []
        for lo, hi, frac in wanted:
            a = values[lo]
            b = values[hi]
            diff = b - a
            out.append(float(b - diff * (1.0 - frac)) if frac >= 0.5 else float(a + diff * frac))
        return out

    def features(self) -> FeatureSet | None:
        """All features of the current window, or ``None`` when it is empty."""
        h = self._head
        n = len(self._ts) - h
        if n == 0:
            return None
        ex = self._ex
        sx = self._sx
        st = self._st
        mean = sx / (n << ex)  # correctly rounded: the mean of equal values is that value
        sxx = self._sxx
        std = math.sqrt(_ratio(n * sxx - sx * sx, (n * n) << (2 * ex)))
        self._stats = (mean, std)
        self._stats_n = n
        self._stats_of = sx
        self._stats_sxx = sxx
        den = n * self._stt - st * st
        trend = _ratio((n * self._stx - st * sx) << self._et, den << ex) if den else 0.0
        p25, median, p75, p95, p99 = self._quantiles(n)
        lists = self._sorted_lists
        last = self._xs[-1]
        cpos, cneg = self.cusum_pos, self.cusum_neg
        return FeatureSet(
            self._ts[h],
            self._ts[-1],
            n,
            mean,
            std,
            lists[0][0],
            lists[-1][-1],
            median,
            p25,
            p75,
            p95,
            p99,
            trend,
            self.ewma,
            last - mean,
            cpos if cpos >= cneg else -cneg,
            last,
        )
