"""Per-series history: per-minute min/mean/max of a value over the last day, in bounded rows.

A history keeps *buckets* (``step`` seconds of event time each, a minute by default). The
newest ``open_buckets`` buckets stay open, as exact count/sum/min/max in the series' small
meta row (written on every batch that touches the series), so that a sample as late as the
window allows still lands in its minute. Older buckets are closed into *chunks* of
``chunk_buckets`` aligned buckets (16 bytes each: index, min, mean, max as float32), and a
chunk lives in one of a fixed ring of row *slots* per series: the chunk of bucket ``b`` is
``b // chunk_buckets`` and its slot is that modulo the ring size. Writing a chunk overwrites
whatever older chunk had its slot, so a series never holds more than ``slots`` chunk rows,
nothing has to be deleted, and a reader drops the entries older than the retention.

The chunk row of the newest chunk is rewritten each time one of its buckets closes (once
per minute per series at most); the meta row carries only the open buckets and the last
value, so the bytes written per metric stay small (see ``make bench``).

The same state keeps two histories of a series: its values (kind ``VALUES``, written by the
ingest stage) and its anomaly scores (kind ``SCORES``, written by the detection stage, with
the detector's name and latest evidence as the meta row's ``tag``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import orjson

from padit_stream.errors import DecodeError

__all__ = [
    "SCORES",
    "VALUES",
    "Bucket",
    "HistoryConfig",
    "HistoryState",
    "Summary",
    "chunk_key",
    "decode_labels",
    "labels_key",
    "meta_key",
    "meta_prefix",
    "read_buckets",
    "summary",
]

VALUES = b"v"
SCORES = b"s"
_META_TAG = b"m"
_CHUNK_TAG = b"c"
_LABELS_PREFIX = b"lb"

# version, last closed bucket (-1: none), last event time, last value, last wall time,
# open buckets; then per open bucket: index, count, sum, min, max; then the tag (UTF-8).
_META = struct.Struct("<Bqddd B")
_OPEN = struct.Struct("<qIddd")
_VERSION = 1
_ENTRY = struct.Struct("<ifff")
_SLOT = struct.Struct(">H")
_F32_MAX = 3.4028234663852886e38


def meta_prefix(kind: bytes) -> bytes:
    """Prefix of every meta row of one kind (a scan of it lists the series)."""
    return kind + _META_TAG


def meta_key(kind: bytes, series_key: bytes) -> bytes:
    """Row key of the meta row of one history of a series."""
    return kind + _META_TAG + series_key


def chunk_key(kind: bytes, series_key: bytes, slot: int) -> bytes:
    """Row key of one chunk slot of one history of a series."""
    return kind + _CHUNK_TAG + series_key + b"\x00" + _SLOT.pack(slot)


def labels_key(series_key: bytes) -> bytes:
    """Row key of a series' labels (JSON, written when they change)."""
    return _LABELS_PREFIX + series_key


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    """How much history a series keeps, at what resolution.

    Example:
        >>> HistoryConfig(retention=86_400, step=60, chunk_buckets=16).slots
        91
    """

    retention: float = 86_400.0
    step: float = 60.0
    chunk_buckets: int = 16
    open_buckets: int = 2

    @property
    def retention_buckets(self) -> int:
        return max(1, math.ceil(self.retention / self.step))

    @property
    def slots(self) -> int:
        """Chunk rows per series: enough for the retention plus the chunk being filled."""
        return -(-self.retention_buckets // self.chunk_buckets) + 1


class Bucket(NamedTuple):
    """One closed or open bucket: its number (start time // step) and value statistics."""

    number: int
    min: float
    mean: float
    max: float


def _f32(x: float) -> float:
    # float32 overflows to an error in struct, not to infinity.
    return x if abs(x) <= _F32_MAX else math.copysign(math.inf, x)


class HistoryState:
    """One history (values or scores) of one series, and the rows not yet written."""

    __slots__ = (
        "_dirty",
        "_labels_dirty",
        "_open",
        "_tail",
        "_tail_chunk",
        "_tail_dirty",
        "config",
        "dropped",
        "key",
        "kind",
        "labels",
        "last_closed",
        "last_time",
        "last_value",
        "last_wall",
        "tag",
    )

    def __init__(self, key: bytes, config: HistoryConfig, kind: bytes = VALUES) -> None:
        self.key = key
        self.config = config
        self.kind = kind
        self.last_closed = -1
        self.last_time = -math.inf
        self.last_value = math.nan
        self.last_wall = 0.0
        #: Free text kept with the history (the scores history: detector and evidence).
        self.tag = b""
        #: The series' labels, for the values history (``None``: not known yet).
        self.labels: dict[str, str] | None = None
        #: Samples too late for a bucket that was closed already.
        self.dropped = 0
        self._open: dict[int, list[float]] = {}  # index -> [count, sum, min, max]
        self._tail = bytearray()  # closed buckets of chunk _tail_chunk, packed
        self._tail_chunk = -1
        self._dirty = False
        self._tail_dirty = False
        self._labels_dirty = False

    def add(
        self,
        ts: float,
        value: float,
        wall: float,
        *,
        labels: Mapping[str, str] | None = None,
        tag: bytes | None = None,
    ) -> None:
        """Add one sample at event time ``ts``, seen at wall time ``wall``.

        A sample for a bucket that was closed already is dropped (counted in ``dropped``),
        unless it is older than the whole retention: then the series' clock went back for
        good and the history restarts (see :meth:`rewind`).
        """
        config = self.config
        index = math.floor(ts / config.step)
        if index <= self.last_closed:
            if index >= self.last_closed - config.retention_buckets:
                self.dropped += 1
                return
            self.rewind()
        acc = self._open.get(index)
        if acc is None:
            self._open[index] = [1.0, value, value, value]
        else:
            acc[0] += 1.0
            acc[1] += value
            if value < acc[2]:
                acc[2] = value
            if value > acc[3]:
                acc[3] = value
        if ts >= self.last_time:
            self.last_time = ts
            self.last_value = value
            if tag is not None:
                self.tag = tag
        self.last_wall = wall
        if labels is not None and labels != self.labels:
            self.labels = dict(labels)
            self._labels_dirty = True
        self._dirty = True
        if len(self._open) > config.open_buckets:
            limit = max(self._open) - config.open_buckets
            for closing in sorted(i for i in self._open if i <= limit):
                self._close(closing)

    def _close(self, index: int) -> None:
        count, total, low, high = self._open.pop(index)
        chunk = index // self.config.chunk_buckets
        if chunk != self._tail_chunk:
            self._tail = bytearray()
            self._tail_chunk = chunk
        self._tail += _ENTRY.pack(index, _f32(low), _f32(total / count), _f32(high))
        self.last_closed = index
        self._tail_dirty = True

    def rewind(self) -> None:
        """Restart empty: the series' clock went back (older chunk rows are overwritten or
        dropped by readers as they fall out of the retention)."""
        self._open.clear()
        self._tail = bytearray()
        self._tail_chunk = -1
        self.last_closed = -1
        self.last_time = -math.inf
        self._dirty = True

    def open_buckets(self) -> list[Bucket]:
        return [Bucket(i, a[2], a[1] / a[0], a[3]) for i, a in sorted(self._open.items())]

    def flush(self) -> list[tuple[bytes, bytes | None]]:
        """Rows changed since the last flush; call once per batch."""
        rows: list[tuple[bytes, bytes | None]] = []
        if self._tail_dirty and self._tail:
            slot = self._tail_chunk % self.config.slots
            rows.append((chunk_key(self.kind, self.key, slot), bytes(self._tail)))
        self._tail_dirty = False
        if self._dirty:
            meta = [
                _META.pack(
                    _VERSION,
                    self.last_closed,
                    self.last_time,
                    self.last_value,
                    self.last_wall,
                    len(self._open),
                )
            ]
            for i, (count, total, low, high) in sorted(self._open.items()):
                meta.append(_OPEN.pack(i, int(count), total, low, high))
            meta.append(self.tag)
            rows.append((meta_key(self.kind, self.key), b"".join(meta)))
            self._dirty = False
        if self._labels_dirty and self.labels is not None:
            rows.append((labels_key(self.key), orjson.dumps(self.labels)))
            self._labels_dirty = False
        return rows

    @classmethod
    def load(
        cls,
        key: bytes,
        config: HistoryConfig,
        kind: bytes,
        get: Callable[[bytes], bytes | None],
    ) -> HistoryState:
        """Rebuild from the rows (a new, empty history when there are none).

        Raises:
            DecodeError: a stored row is corrupt.
        """
        state = cls(key, config, kind)
        if kind == VALUES:
            state.labels = decode_labels(get(labels_key(key)))
        meta = get(meta_key(kind, key))
        if meta is None:
            return state
        state._decode_meta(meta)
        if state.last_closed >= 0:
            chunk = state.last_closed // config.chunk_buckets
            raw = get(chunk_key(kind, key, chunk % config.slots))
            for b in _decode_chunk(key, raw):
                if b.number // config.chunk_buckets == chunk:
                    state._tail += _ENTRY.pack(*b)
            state._tail_chunk = chunk
        return state

    def _decode_meta(self, meta: bytes) -> None:
        try:
            version, last_closed, last_time, last_value, last_wall, n_open = _META.unpack_from(meta)
            if version != _VERSION:
                raise DecodeError(f"history meta row of {self.key!r} has unknown version {version}")
            offset = _META.size
            for _ in range(n_open):
                i, count, total, low, high = _OPEN.unpack_from(meta, offset)
                self._open[i] = [float(count), total, low, high]
                offset += _OPEN.size
        except struct.error as exc:
            raise DecodeError(f"corrupt history meta row for {self.key!r}") from exc
        self.last_closed = last_closed
        self.last_time = last_time
        self.last_value = last_value
        self.last_wall = last_wall
        self.tag = meta[offset:]


class Summary(NamedTuple):
    """The newest sample of a history, read from its meta row alone."""

    last_time: float
    last_value: float
    last_wall: float
    tag: bytes


def summary(raw: bytes | None) -> Summary | None:
    """What a meta row says about the newest sample (``None``: no row).

    Raises:
        DecodeError: the row is corrupt.
    """
    if raw is None:
        return None
    try:
        version, _, last_time, last_value, last_wall, n_open = _META.unpack_from(raw)
    except struct.error as exc:
        raise DecodeError("corrupt history meta row") from exc
    if version != _VERSION:
        raise DecodeError(f"history meta row has unknown version {version}")
    return Summary(last_time, last_value, last_wall, raw[_META.size + n_open * _OPEN.size :])


def _decode_chunk(key: bytes, raw: bytes | None) -> list[Bucket]:
    if raw is None:
        return []
    if len(raw) % _ENTRY.size:
        raise DecodeError(f"corrupt history chunk of {key!r}")
    return [Bucket(*e) for e in _ENTRY.iter_unpack(raw)]


def read_buckets(
    key: bytes,
    config: HistoryConfig,
    kind: bytes,
    get: Callable[[bytes], bytes | None],
) -> tuple[HistoryState, list[Bucket]]:
    """The state of one history and its buckets within the retention, oldest first.

    Raises:
        DecodeError: a stored row is corrupt.
    """
    state = HistoryState.load(key, config, kind, get)
    open_ = state.open_buckets()
    newest = max([b.number for b in open_] + [state.last_closed])
    if newest < 0:
        return state, []
    horizon = newest - config.retention_buckets
    found: dict[int, Bucket] = {}
    for slot in range(config.slots):
        for b in _decode_chunk(key, get(chunk_key(kind, key, slot))):
            if horizon < b.number <= state.last_closed:
                found[b.number] = b
    for b in open_:
        found[b.number] = b
    return state, [found[i] for i in sorted(found)]


def decode_labels(raw: bytes | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("corrupt labels row") from exc
    if not isinstance(doc, dict):
        raise DecodeError("corrupt labels row")
    return {str(k): str(v) for k, v in doc.items()}
