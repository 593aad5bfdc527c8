"""A detector as the stream keeps it: a snapshot now and then, and the inputs since.

A trained detector is tens of kilobytes (``make bench`` prints each one's size). Writing it
whole after every evaluation made the detectors' changelog the largest by far, so the
stream writes the evaluated features record itself (a few hundred bytes) as a numbered
*input row*, and a snapshot of the detector every ``SNAPSHOT_EVERY`` evaluations, or when
the worker drops the detector from memory. A snapshot deletes the input rows it includes.
Loading takes the snapshot and replays the input rows after it through the same calls the
stream made (:func:`padit_stream.detectors.base.evaluate`), so the detector is the one it was.

Rows of a series ``key``: ``key`` holds the snapshot (a version byte, the number of
evaluations it includes, the input offset of the last one, the pickle);
``key + b"\\x00i" + seq`` (big-endian) holds input ``seq``: its offset, then the record.
Version 1 rows were a bare pickle after every evaluation; they still load.

Each series records the offset of the last input it learned from, so a features record
delivered again after a crash (at-least-once) is not learned twice.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Callable
from typing import Generic, TypeVar

from padit_stream.errors import DecodeError

__all__ = ["SNAPSHOT_EVERY", "PersistedDetector", "input_key"]

D = TypeVar("D")

#: Evaluations between two snapshots of a detector.
SNAPSHOT_EVERY = 64
_HEADER = struct.Struct("<BQq")  # version, evaluations included, offset of the last one
_OFFSET = struct.Struct("<q")
_VERSION = 2
_PICKLE_START = b"\x80"  # version 1 rows: a bare pickle (protocol 2 and up)
_INPUT = b"\x00i"
_SEQ = struct.Struct(">Q")

Row = tuple[bytes, bytes | None]


def input_key(key: bytes, seq: int) -> bytes:
    """Row key of input ``seq`` of the detector of ``key``."""
    return key + _INPUT + _SEQ.pack(seq)


class PersistedDetector(Generic[D]):
    """A detector, how many evaluations it has had, and the rows not yet written.

    Example:
        >>> from padit_stream.detectors import EwmaDetector
        >>> rows = {}
        >>> def replay(det, raw):
        ...     det.learn_one({"timestamp": 0.0, "value": float(raw)})
        >>> state = PersistedDetector(b"k", EwmaDetector())
        >>> for v in (b"1", b"2", b"3"):
        ...     state.detector.learn_one({"timestamp": 0.0, "value": float(v)})
        ...     state.evaluated(v)
        >>> rows.update(state.flush())
        >>> again = PersistedDetector.load(b"k", rows.get, EwmaDetector, replay)
        >>> again.applied, pickle.dumps(again.detector) == pickle.dumps(state.detector)
        (3, True)
    """

    __slots__ = ("_rows", "applied", "detector", "key", "last_offset", "snapshot_at")

    def __init__(self, key: bytes, detector: D, applied: int = 0, last_offset: int = -1) -> None:
        self.key = key
        self.detector = detector
        self.applied = applied  # evaluations the detector has had
        self.snapshot_at = applied  # evaluations included in the stored snapshot
        self.last_offset = last_offset  # input offset of the last evaluation (-1: none)
        self._rows: list[Row] = []

    def seen(self, offset: int) -> bool:
        """Whether the input at ``offset`` was learned from already (a redelivery)."""
        return 0 <= offset <= self.last_offset

    def evaluated(self, raw: bytes, offset: int = -1) -> None:
        """Record one evaluation (``evaluate``) of the input ``raw``.

        ``offset`` is the input record's offset in its partition (-1: not from a topic).
        """
        self._rows.append((input_key(self.key, self.applied), _OFFSET.pack(offset) + raw))
        self.applied += 1
        if offset >= 0:
            self.last_offset = offset
        if self.applied - self.snapshot_at >= SNAPSHOT_EVERY:
            self._snapshot()

    def _snapshot(self) -> None:
        # Snapshot first, deletions after: if the writes stop between them, the leftover
        # input rows are below the snapshot and never replayed.
        body = pickle.dumps(self.detector, protocol=5)
        head = _HEADER.pack(_VERSION, self.applied, self.last_offset)
        self._rows.append((self.key, head + body))
        self._rows += [
            (input_key(self.key, s), None) for s in range(self.snapshot_at, self.applied)
        ]
        self.snapshot_at = self.applied

    def flush(self) -> list[Row]:
        """Rows to write since the last flush (``None`` deletes)."""
        rows, self._rows = self._rows, []
        return rows

    def checkpoint(self) -> list[Row]:
        """Rows that make the stored form a snapshot (before the detector leaves memory)."""
        if self.applied > self.snapshot_at:
            self._snapshot()
        return self.flush()

    @classmethod
    def load(
        cls,
        key: bytes,
        get: Callable[[bytes], bytes | None],
        fresh: Callable[[], D],
        replay: Callable[[D, bytes], None],
    ) -> PersistedDetector[D]:
        """The detector of ``key`` from its rows (``fresh()`` when there are none).

        Raises:
            DecodeError: the snapshot row is corrupt.
        """
        raw = get(key)
        detector: D
        if raw is None:  # no snapshot yet: the inputs from the first one on
            detector, applied, last_offset = fresh(), 0, -1
        else:
            try:
                if raw[:1] == _PICKLE_START:  # version 1: inputs may follow it, from 0
                    detector, applied, last_offset = pickle.loads(raw), 0, -1
                else:
                    version, applied, last_offset = _HEADER.unpack_from(raw)
                    if version != _VERSION:
                        raise DecodeError(f"detector row of {key!r} has unknown version {version}")
                    # Our own table: trusted bytes.
                    detector = pickle.loads(raw[_HEADER.size :])
            except (pickle.UnpicklingError, struct.error, EOFError) as exc:
                raise DecodeError(f"corrupt detector row of {key!r}: {exc}") from exc
        state = cls(key, detector, applied, last_offset)
        size = _OFFSET.size
        while (row := get(input_key(key, state.applied))) is not None:
            if len(row) < size:
                raise DecodeError(f"corrupt input {state.applied} of the detector of {key!r}")
            replay(detector, row[size:])
            (offset,) = _OFFSET.unpack_from(row)
            state.applied += 1
            if offset >= 0:
                state.last_offset = offset
        return state
