"""metrics → per-series windows → features: the ingest stage, one partition slice at a time."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from padit_stream.core.cache import StateCache
from padit_stream.core.clock import TimeBounds
from padit_stream.core.series import SeriesState
from padit_stream.errors import DecodeError, LateSampleError, RecordTooLargeError
from padit_stream.schema import (
    DEFAULT_LIMITS,
    DecodeLimits,
    decode_metric,
    encode_features,
    metric_key,
    partition_for_key,
)
from padit_stream.stages import Emit, internal_error

__all__ = ["Ingest"]

STAGE = "window"
#: Row of the windows table, one per partition: the last input offset whose dead letter or
#: re-keyed copy went out. Not a series key (those are JSON arrays).
FORWARDED_KEY = b"\x00padit.forwarded"
_OFFSET = struct.Struct(">q")


@dataclass
class Ingest:
    """Window every metric of a slice; emit features on each series' event-time cadence.

    A record is dead-lettered (with the reason; the slice goes on) when it does not decode,
    when its timestamp is outside the plausible range (:class:`TimeBounds`), or when it is
    later than its window's allowed lateness. A record keyed otherwise than its series is
    sent again with the right key, so it reaches the partition that owns its window.

    Both are sent once per input record, like the window updates: a partition's last
    forwarded offset is a row written with the slice's window rows (:data:`FORWARDED_KEY`),
    so a slice delivered again after a crash does not dead-letter or re-key its records a
    second time (a re-keyed copy sent twice would be a metric applied twice).

    Args:
        windows: decoded series state over the windows table's rows.
        emit: where features, re-keyed metrics and dead letters go.
        features_topic: name of the features topic.
        metrics_topic: name of the metrics topic (for re-keyed records).
        partitions: partitions of the metrics topic.
        bounds: plausible event time, relative to ``wall()``.
        rewind_after: consecutive late samples after which a series' window restarts.
        limits: what one metric record may hold.
        wall: the worker's clock (read once per slice).
    """

    windows: StateCache[Any, SeriesState]
    emit: Emit
    features_topic: str
    metrics_topic: str
    partitions: int
    bounds: TimeBounds = field(default_factory=TimeBounds)
    rewind_after: int = 10
    limits: DecodeLimits = DEFAULT_LIMITS
    wall: Callable[[], float] = time.time
    #: Series restarted because their clock went back (for the logs and tests).
    rewinds: int = field(default=0, init=False)
    _forwarded: dict[int, int] = field(default_factory=dict, init=False, repr=False)

    def reset(self, partition: int) -> None:
        """Forget decoded state of ``partition``: it is read back from RocksDB."""
        self.windows.drop_partition(partition)
        self._forwarded.pop(partition, None)

    def forwarded(self, partition: int) -> int:
        """The last offset of ``partition`` dead-lettered or re-keyed (-1: none)."""
        done = self._forwarded.get(partition)
        if done is None:
            row = self.windows.rows.get(partition, FORWARDED_KEY)
            done = _OFFSET.unpack(row)[0] if row else -1
            self._forwarded[partition] = done
        return done

    def __call__(self, partition: int, records: Sequence[Any]) -> None:
        emit = self.emit
        add = emit.add
        get = self.windows.get
        features_topic = self.features_topic
        limits = self.limits
        wall = self.wall()
        floor, ceiling = self.bounds.at(wall)
        touched: dict[bytes, SeriesState] = {}
        done = self.forwarded(partition)
        last = done
        for i, record in enumerate(records):
            try:
                metric = decode_metric(record.value, limits)
                ts = metric.timestamp
                if not floor <= ts <= ceiling:
                    if record.offset > done:
                        emit.dead_letter(record, self.bounds.why(ts, wall) or "timestamp", STAGE)
                        last = record.offset
                    continue
                key = record.key
                if key != metric_key(metric.source_id, metric.metric_name):
                    if record.offset > done:
                        self._rekey(record, metric.source_id, metric.metric_name)
                        last = record.offset
                    continue
                # The record's own key, not metric_key's: orjson's bytes keep a 4 KiB buffer
                # each, which held in the state cache was 400 MiB at 100,000 series.
                state = get(partition, key)
                try:
                    emitted = state.add(ts, metric.value, record.offset)
                except LateSampleError as exc:
                    touched[key] = state  # the offset counts as applied
                    emit.dead_letter(record, str(exc), STAGE)
                    if self.rewind_after and state.late_run >= self.rewind_after:
                        state.rewind()
                        self.rewinds += 1
                    continue
                touched[key] = state
                if emitted is not None:
                    # Same key, same partition count: features stay in the input's partition.
                    add(
                        features_topic,
                        partition,
                        key,
                        encode_features(metric.source_id, metric.metric_name, emitted),
                    )
            except DecodeError as exc:
                if record.offset > done:
                    emit.dead_letter(record, exc.reason, "decode")
                    last = record.offset
            except Exception as exc:  # a bug must cost one record, not the worker
                emit.dead_letter(record, internal_error(exc), STAGE)
                last = max(last, record.offset)
                self._recover(partition, record.key, records[:i], touched, (floor, ceiling))
        rows: list[tuple[bytes, bytes | None]] = []
        for state in touched.values():
            rows += state.flush()
        if last > done:
            self._forwarded[partition] = last
            rows.append((FORWARDED_KEY, _OFFSET.pack(last)))
        if rows:
            self.windows.rows.write(partition, rows)

    def _recover(
        self,
        partition: int,
        key: bytes,
        before: Sequence[Any],
        touched: dict[bytes, SeriesState],
        bounds: tuple[float, float],
    ) -> None:
        """Rebuild a series a bug may have left half-updated: its rows, then the records of
        this slice that came before (their outputs are out already)."""
        self.windows.drop(key)
        touched.pop(key, None)
        if not isinstance(key, bytes):
            return
        state = self.windows.get(partition, key)
        for record in before:
            if record.key != key:
                continue
            try:
                metric = decode_metric(record.value, self.limits)
                if (
                    bounds[0] <= metric.timestamp <= bounds[1]
                    and metric_key(metric.source_id, metric.metric_name) == key
                ):
                    state.add(metric.timestamp, metric.value, record.offset)
            except (DecodeError, LateSampleError):
                continue
        touched[key] = state

    def _rekey(self, record: Any, source_id: str, metric_name: str) -> None:
        right = metric_key(source_id, metric_name)
        try:
            self.emit.add(
                self.metrics_topic, partition_for_key(right, self.partitions), right, record.value
            )
        except RecordTooLargeError as exc:
            self.emit.dead_letter(record, f"cannot be re-keyed: {exc}", "decode")
