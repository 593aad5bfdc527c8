"""The tables, and the row-level access the agents use to keep state in them.

State is written per batch with an explicit partition (the partition of the input records),
not through ``table[key] = value``: a batch from ``take_events`` mixes partitions, and
Faust's item API would file every row under the partition of the last event.

Decoded state (windows, detectors) is cached per worker and rebuilt from RocksDB when a key
is first touched after start or after a rebalance: the cache only ever holds what the
table holds.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from padit_stream.app import app, settings
from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.core.wire import parse_metric_key
from padit_stream.detectors import Detector
from padit_stream.detectors.config import build_detector

__all__ = ["RowStore", "StateCache", "detector_rows", "detector_states", "window_rows", "windows"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

window_rows = app.Table(
    "windows",
    key_type=bytes,  # bytes means the raw serializer, as on the topics
    value_type=bytes,
    partitions=settings.topics.partitions,
    help="Per-series window: meta rows (series key) and sample chunk rows.",
)

detector_rows = app.Table(
    "detectors",
    key_type=bytes,  # bytes means the raw serializer, as on the topics
    value_type=bytes,
    partitions=settings.topics.partitions,
    help="Per-series detector state (pickled detector).",
)


class RowStore:
    """Raw rows of one table, read and written per partition."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def _db(self, partition: int) -> Any:
        return self.table.data._db_for_partition(partition)

    def get(self, partition: int, key: bytes) -> bytes | None:
        value: bytes | None = self._db(partition).get(key)
        return value

    def write(self, partition: int, rows: Iterable[tuple[bytes, bytes | None]]) -> int:
        """Apply rows (``None`` deletes) locally and to the changelog; returns bytes sent."""
        db = self._db(partition)
        send = self.table.send_changelog
        sent = 0
        for key, value in rows:
            if value is None:
                db.delete(key)
            else:
                db.put(key, value)
                sent += len(value)
            sent += len(key)
            send(partition, key, value, key_serializer="raw", value_serializer="raw")
        return sent


class StateCache(Generic[T]):
    """Decoded per-key state over a :class:`RowStore`, dropped whenever partitions move."""

    def __init__(self, rows: RowStore, load: Callable[[bytes, Callable[[bytes], bytes | None]], T]):
        self.rows = rows
        self._load = load
        self._items: dict[bytes, T] = {}

    def get(self, partition: int, key: bytes) -> T:
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = self._load(key, lambda k: self.rows.get(partition, k))
        return item

    def peek(self, key: bytes) -> T | None:
        return self._items.get(key)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_series_config = SeriesConfig(
    span=settings.window.span_sec,
    max_count=settings.window.max_samples,
    lateness=settings.window.allowed_lateness_sec,
    ewma_alpha=settings.window.ewma_alpha,
    emit_every=settings.window.emit_every_sec,
)

windows: StateCache[SeriesState] = StateCache(
    RowStore(window_rows), lambda key, get: SeriesState.load(key, _series_config, get)
)


def _load_detector(key: bytes, get: Callable[[bytes], bytes | None]) -> Detector:
    raw = get(key)
    if raw is not None:
        detector: Detector = pickle.loads(raw)  # our own table: trusted bytes
        return detector
    _, metric_name = parse_metric_key(key)
    return build_detector(settings.detection, metric_name)


detector_states: StateCache[Detector] = StateCache(RowStore(detector_rows), _load_detector)


@app.on_partitions_revoked.connect
def _drop_caches(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
    # A partition that comes back later may have been changed by another worker.
    logger.info("partitions revoked: dropping decoded state caches")
    windows.clear()
    detector_states.clear()
