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
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from rocksdict import WriteBatch

from padit_stream.alerting import AlertState
from padit_stream.alerting.stage import NotificationStage
from padit_stream.app import app, settings
from padit_stream.core.cache import StateCache
from padit_stream.core.records import FEATURES_FIELDS, decode_record, features_observation
from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.core.wire import parse_metric_key
from padit_stream.detectors import Detector
from padit_stream.detectors.config import build_detector
from padit_stream.detectors.persist import PersistedDetector
from padit_stream.sender import BatchSender

__all__ = [
    "EventClock",
    "RowStore",
    "StageHolder",
    "StateCache",
    "alert_clock",
    "alert_state_rows",
    "alert_states",
    "detector_rows",
    "detector_states",
    "is_local",
    "notification",
    "notify_rows",
    "notify_store",
    "owner_of",
    "sender",
    "window_rows",
    "windows",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

window_rows = app.Table(
    "windows",
    key_type=bytes,  # bytes means the raw serializer, as on the topics
    value_type=bytes,
    partitions=settings.topics.partitions,
    help="Per-series window: meta rows (series key) and sample chunk rows.",
)

alert_state_rows = app.Table(
    "alert-states",
    key_type=bytes,
    value_type=bytes,
    partitions=settings.topics.partitions,
    help="Alert lifecycle state per fingerprint (partitioned like the anomalies).",
)

notify_rows = app.Table(
    "alert-notify",
    key_type=bytes,
    value_type=bytes,
    partitions=1,
    help="Notification stage: groups, silences and the outbox of undelivered notifications.",
)

detector_rows = app.Table(
    "detectors",
    key_type=bytes,  # bytes means the raw serializer, as on the topics
    value_type=bytes,
    partitions=settings.topics.partitions,
    help="Per-series detector: a snapshot and the features records evaluated since.",
)


sender = BatchSender(app)
app.on_bulk_flush(sender.flush)


class RowStore:
    """Raw rows of one table, read and written per partition."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self._changelog = table.changelog_topic.get_topic_name()
        sender.track_changelog(table)

    def _db(self, partition: int) -> Any:
        return self.table.data._db_for_partition(partition)

    def get(self, partition: int, key: bytes) -> bytes | None:
        value: bytes | None = self._db(partition).get(key)
        return value

    def items(self, partition: int, prefix: bytes = b"") -> list[tuple[bytes, bytes]]:
        """Rows of one partition whose key starts with ``prefix``."""
        return [(k, v) for k, v in self._db(partition).items() if k.startswith(prefix)]

    def write(self, partition: int, rows: Iterable[tuple[bytes, bytes | None]]) -> int:
        """Apply rows (``None`` deletes) locally and queue them for the changelog.

        The caller flushes :data:`sender` before acknowledging its input. Returns the bytes
        queued (keys and values).
        """
        # One write batch: a RocksDB call per row costs twice as much as a batched row.
        batch = WriteBatch(raw_mode=True)
        add = sender.add
        topic = self._changelog
        sent = 0
        for key, value in rows:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
                sent += len(value)
            sent += len(key)
            add(topic, partition, key, value)
        self._db(partition).write(batch)
        return sent


_series_config = SeriesConfig(
    span=settings.window.span_sec,
    max_count=settings.window.max_samples,
    lateness=settings.window.allowed_lateness_sec,
    ewma_alpha=settings.window.ewma_alpha,
    emit_every=settings.window.emit_every_sec,
)

windows: StateCache[RowStore, SeriesState] = StateCache(
    RowStore(window_rows), lambda key, get: SeriesState.load(key, _series_config, get)
)


def _replay(detector: Detector, raw: bytes) -> None:
    # What the detection agent did with this features record, minus its outputs.
    x = features_observation(decode_record(raw, FEATURES_FIELDS))
    detector.explain_one(x)
    detector.learn_one(x)


def _load_detector(key: bytes, get: Callable[[bytes], bytes | None]) -> PersistedDetector[Detector]:
    _, metric_name = parse_metric_key(key)
    return PersistedDetector.load(
        key, get, lambda: build_detector(settings.detection, metric_name), _replay
    )


detector_states: StateCache[RowStore, PersistedDetector[Detector]] = StateCache(
    RowStore(detector_rows), _load_detector, max_items=settings.detection.cached_detectors
)


def _load_alert_state(key: bytes, get: Callable[[bytes], bytes | None]) -> AlertState | None:
    raw = get(key)
    return AlertState.decode(raw) if raw is not None else None


alert_states: StateCache[RowStore, AlertState | None] = StateCache(
    RowStore(alert_state_rows), _load_alert_state
)
notify_store = RowStore(notify_rows)


def owner_of(table: Any, partition: int) -> str | None:
    """Web URL of the worker that holds ``partition`` of ``table`` (actively), if known."""
    topic = table.changelog_topic.get_topic_name()
    for url, topics in app.router.table_metadata(table.name).items():
        if partition in topics.get(topic, ()):
            return str(url).rstrip("/")
    return None


def is_local(url: str | None) -> bool:
    return url is not None and url == str(app.conf.canonical_url).rstrip("/")


class EventClock:
    """Newest event time this worker has seen (derived from the stream, not state)."""

    def __init__(self) -> None:
        self.now = float("-inf")

    def see(self, ts: float) -> None:
        if ts > self.now:
            self.now = ts


class StageHolder:
    """The notification stage of this worker, built from its rows when first needed."""

    def __init__(self) -> None:
        self._stage: NotificationStage | None = None
        self.retired: list[NotificationStage] = []

    def get(self) -> NotificationStage:
        if self._stage is None:
            self._stage = NotificationStage(settings.alerting, notify_store)
        return self._stage

    def drop(self) -> None:
        if self._stage is not None:
            self.retired.append(self._stage)
            self._stage = None


alert_clock = EventClock()
notification = StageHolder()


@app.on_rebalance_complete.connect
def _drop_caches_after_recovery(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
    # Recovery wrote changelog records into RocksDB behind the caches' backs.
    windows.clear()
    detector_states.clear()
    alert_states.clear()


@app.on_partitions_revoked.connect
def _drop_caches(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
    # A partition that comes back later may have been changed by another worker.
    logger.info("partitions revoked: dropping decoded state caches")
    windows.clear()
    detector_states.clear()
    alert_states.clear()
    notification.drop()
