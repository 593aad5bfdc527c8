"""Per-series state as the stream keeps it: a window plus its compact persistent form.

The window is persisted as *rows that grow with new data, not with the window*. New samples
(16 bytes each) collect in an open *tail* kept in the series' small meta row; once the tail
holds ``SEAL_SAMPLES`` samples it is sealed into a chunk row of its own, and a chunk row is
deleted once all its samples have left the window. A batch therefore writes one meta row
(a header and at most a tail's worth of samples) and, now and then, a chunk row and a
tombstone, so the bytes written per metric stay flat whether the window holds 100 or 10,000
samples; and a series that gets one sample per batch (the usual case: sources report every
few seconds) costs about one row write per metric, not three.

Rebuilding from the rows replays the live chunks in arrival order, then the tail; the window
then holds exactly the samples it held before (its content is the newest ``max_count``
samples within ``span`` of the newest timestamp, which the replay of any superset of them
reproduces), and features, a function of content alone, are bit-identical.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from padit_stream.core.features import FeatureSet
from padit_stream.core.window import SlidingWindow
from padit_stream.errors import DecodeError, LateSampleError

__all__ = ["SeriesConfig", "SeriesState", "chunk_key"]

# version, next chunk id (the open tail's id), first live chunk id, last emit ts, last input
# offset applied, then the window's online statistics: ewma, cusum C+, cusum C-. Version 2
# rows carry the tail's (ts, value) doubles after the header; version 1 rows had no tail.
_META = struct.Struct("<Bqqdqddd")
_META_VERSION = 2
_META_VERSIONS = (1, 2)
#: Samples after which the open tail becomes a chunk row of its own.
SEAL_SAMPLES = 16
_CHUNK_ID = struct.Struct(">Q")  # big-endian so chunk rows of a series sort by id
_CHUNK_SEP = b"\x00"


def chunk_key(series_key: bytes, chunk_id: int) -> bytes:
    """Row key of one chunk of a series."""
    return series_key + _CHUNK_SEP + _CHUNK_ID.pack(chunk_id)


@dataclass(frozen=True, slots=True)
class SeriesConfig:
    """Window parameters shared by every series."""

    span: float = 300.0
    max_count: int = 1000
    lateness: float = 30.0
    ewma_alpha: float = 0.3
    emit_every: float = 60.0

    def new_window(self) -> SlidingWindow:
        return SlidingWindow(self.span, self.max_count, self.lateness, self.ewma_alpha)


class SeriesState:
    """One series' window, emission clock and the rows not yet written."""

    __slots__ = (
        "_dead",
        "_live",
        "_tail",
        "config",
        "key",
        "last_emit",
        "last_offset",
        "late_run",
        "next_chunk",
        "window",
    )

    def __init__(self, key: bytes, config: SeriesConfig) -> None:
        self.key = key
        self.config = config
        self.window = config.new_window()
        self.next_chunk = 0
        self.last_emit = -math.inf
        self.last_offset = -1
        #: Consecutive samples refused as late (see :meth:`rewind`).
        self.late_run = 0
        self._live: dict[int, int] = {}  # chunk id -> samples of it still in the window
        self._tail: list[float] = []  # ts, value pairs of the open chunk (id next_chunk)
        self._dead: list[int] = []  # persisted chunks to delete at the next flush

    def add(self, ts: float, value: float, offset: int = -1) -> FeatureSet | None:
        """Add one sample; return features when the emission cadence says so.

        ``offset`` is the input record's offset in its partition: a record at or below the
        last offset applied is a redelivery (at-least-once after a crash) and is ignored,
        which makes the update idempotent.

        Raises:
            LateSampleError: the sample is too late for the window (nothing changes).
        """
        if 0 <= offset <= self.last_offset:
            return None
        if offset >= 0:
            self.last_offset = offset  # a late sample counts as applied: refused once
        tail = self.next_chunk
        try:
            evicted = self.window.add(ts, value, tail)
        except LateSampleError:
            self.late_run += 1
            raise
        self.late_run = 0
        live = self._live
        # A late sample can leave at once (count bound), emptying its own chunk early.
        live[tail] = live.get(tail, 0) + 1
        self._tail += (ts, value)
        for tag in evicted:
            left = live[tag] - 1
            if left:
                live[tag] = left
            else:
                del live[tag]
                if tag != tail:
                    self._dead.append(tag)
        if self.window.max_ts - self.last_emit >= self.config.emit_every:
            self.last_emit = self.window.max_ts
            return self.window.features()
        return None

    def rewind(self) -> None:
        """Restart the window empty: the series' clock went back for good.

        When sample after sample is refused as late, the newest sample that set the window's
        clock was wrong (a device clock that jumped ahead, then was corrected). Refusing
        everything until event time catches up would blind the series for as long as the
        jump; restarting the window costs one window of history instead. Every stored chunk
        is deleted at the next :meth:`flush`.
        """
        self._dead += [c for c in self._live if c != self.next_chunk]
        self._live = {}
        self._tail = []
        self.window = self.config.new_window()
        self.last_emit = -math.inf
        self.late_run = 0

    def _first_live(self) -> int:
        # Chunk ids enter _live in increasing order, so its first key is the oldest live one.
        return next(iter(self._live), self.next_chunk)

    def flush(self) -> list[tuple[bytes, bytes | None]]:
        """Rows changed since the last flush (``None`` deletes); call once per batch.

        Order matters if a worker dies part-way through writing them: a sealed chunk comes
        first (a chunk without its meta row is overwritten when the batch is replayed, as its
        id is still the open one there), then the meta row, then deletions of dead chunks (a
        dead chunk that survives is never read again or is evicted again on rebuild).
        """
        rows: list[tuple[bytes, bytes | None]] = []
        tail = self._tail
        open_id = self.next_chunk
        if not self._live.get(open_id):
            tail = self._tail = []  # every tail sample has left the window already
        elif len(tail) >= 2 * SEAL_SAMPLES:
            rows.append((chunk_key(self.key, open_id), struct.pack(f"<{len(tail)}d", *tail)))
            self.next_chunk += 1
            tail = self._tail = []
        w = self.window
        meta = _META.pack(
            _META_VERSION,
            self.next_chunk,
            self._first_live(),
            self.last_emit,
            self.last_offset,
            w.ewma,
            w.cusum_pos,
            w.cusum_neg,
        )
        if tail:
            meta += struct.pack(f"<{len(tail)}d", *tail)
        rows.append((self.key, meta))
        if self._dead:
            rows += [(chunk_key(self.key, c), None) for c in self._dead]
            self._dead = []
        return rows

    @classmethod
    def load(
        cls, key: bytes, config: SeriesConfig, get: Callable[[bytes], bytes | None]
    ) -> SeriesState:
        """Rebuild a series from its rows (a new, empty series when there are none).

        Raises:
            DecodeError: a stored row is corrupt.
        """
        state = cls(key, config)
        meta = get(key)
        if meta is None:
            return state
        header = _META.size
        try:
            (version, next_chunk, first_live, last_emit, last_offset, ewma, cpos, cneg) = (
                _META.unpack_from(meta)
            )
        except struct.error as exc:
            raise DecodeError(f"corrupt window meta row for {key!r}") from exc
        if version not in _META_VERSIONS:
            raise DecodeError(f"window meta row for {key!r} has unknown version {version}")
        if (len(meta) - header) % 16:
            raise DecodeError(f"corrupt tail in the window meta row of {key!r}")
        state.next_chunk = next_chunk
        state._replay((c, get(chunk_key(key, c))) for c in range(first_live, next_chunk))
        if len(meta) > header:
            state._replay([(next_chunk, meta[header:])])
            state._tail = list(struct.unpack(f"<{(len(meta) - header) // 8}d", meta[header:]))
        state.window.restore_online(ewma, cpos, cneg)
        state.last_emit = last_emit
        state.last_offset = last_offset
        return state

    def _replay(self, chunks: Iterable[tuple[int, bytes | None]]) -> None:
        window = self.window
        for chunk_id, raw in chunks:
            if raw is None:
                continue
            if len(raw) % 16:
                raise DecodeError(f"corrupt chunk {chunk_id} of {self.key!r}")
            flat = struct.unpack(f"<{len(raw) // 8}d", raw)
            self._live[chunk_id] = 0
            for i in range(0, len(flat), 2):
                try:
                    evicted = window.add(flat[i], flat[i + 1], chunk_id)
                except LateSampleError:
                    continue
                self._live[chunk_id] += 1
                for tag in evicted:
                    self._live[tag] -= 1
        for chunk_id in [c for c, n in self._live.items() if n <= 0]:
            del self._live[chunk_id]
            if chunk_id != self.next_chunk:  # the open tail has no row of its own
                self._dead.append(chunk_id)
