"""Everything one worker's agents and views share, built from the settings.

:func:`build` declares the topics and tables on the app and builds the batch sender, the row
stores, the decoded-state caches and the per-batch stages over them. The agents
(:mod:`padit_stream.agents`) and the web views (:mod:`padit_stream.views`) read what they
need from the :class:`Stream`; nothing is wired at import time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from padit_stream.alerting import AlertEngine, AlertState
from padit_stream.alerting.stage import NotificationStage
from padit_stream.core.cache import StateCache
from padit_stream.core.clock import EventClocks, TimeBounds
from padit_stream.core.history import SCORES, VALUES, HistoryConfig, HistoryState
from padit_stream.core.series import SeriesConfig, SeriesState
from padit_stream.detectors import Detector, evaluate
from padit_stream.detectors.config import build_detector
from padit_stream.detectors.persist import PersistedDetector
from padit_stream.schema import (
    FEATURES_FIELDS,
    DecodeLimits,
    decode_record,
    features_observation,
    parse_metric_key,
)
from padit_stream.sender import BatchSender
from padit_stream.settings import Settings
from padit_stream.stages.alert import AlertLifecycle, load_alert_state
from padit_stream.stages.detect import Detect
from padit_stream.stages.ingest import Ingest
from padit_stream.stores import RowStore
from padit_stream.tables import Tables, create_tables
from padit_stream.topics import Topics, create_topics

__all__ = ["NotificationHolder", "Stream", "build"]

logger = logging.getLogger(__name__)


class NotificationHolder:
    """The notification stage of this worker, built from its rows when first needed.

    It is dropped when partitions move (another worker may own it next) and rebuilt from
    the rows by its next user; a dropped stage is closed by the notification timer.
    """

    def __init__(self, factory: Callable[[], NotificationStage]) -> None:
        self._factory = factory
        self._stage: NotificationStage | None = None
        self.retired: list[NotificationStage] = []

    def get(self) -> NotificationStage:
        if self._stage is None:
            self._stage = self._factory()
        return self._stage

    def peek(self) -> NotificationStage | None:
        """The stage if this worker built it (never builds one: for read-only callers)."""
        return self._stage

    def drop(self) -> None:
        if self._stage is not None:
            self.retired.append(self._stage)
            self._stage = None


@dataclass
class Stream:
    """One worker's stream job: settings, topics, tables, state and stages."""

    settings: Settings
    app: Any
    topics: Topics
    tables: Tables
    sender: BatchSender
    windows: StateCache[RowStore, SeriesState]
    detectors: StateCache[RowStore, PersistedDetector[Detector]]
    alert_states: StateCache[RowStore, AlertState | None]
    notify_store: RowStore
    history: StateCache[RowStore, HistoryState]
    score_history: StateCache[RowStore, HistoryState]
    history_config: HistoryConfig
    notification: NotificationHolder
    ingest: Ingest
    detect: Detect
    lifecycle: AlertLifecycle
    bounds: TimeBounds = field(default_factory=TimeBounds)

    def forget_state(self) -> None:
        """Partitions moved or were recovered: drop decoded state (RocksDB changed behind it)."""
        self.windows.clear()
        self.detectors.clear()
        self.history.clear()
        self.score_history.clear()
        self.lifecycle.forget()


def _replay(detector: Detector, raw: bytes) -> None:
    # What the detection stage did with this features record, minus its outputs.
    evaluate(detector, features_observation(decode_record(raw, FEATURES_FIELDS)))


def build(app: Any, settings: Settings) -> Stream:
    """Declare topics and tables on ``app`` and build the state and stages over them."""
    topics = create_topics(app, settings)
    tables = create_tables(app, settings)
    limits = settings.limits
    sender = BatchSender(
        lambda: app.producer._ensure_producer(),
        dead_letter_topic=topics.deadletter.get_topic_name(),
        dead_letter_max_bytes=limits.deadletter_max_bytes,
    )
    w = settings.window
    series_config = SeriesConfig(
        span=w.span_sec,
        max_count=w.max_samples,
        lateness=w.allowed_lateness_sec,
        ewma_alpha=w.ewma_alpha,
        emit_every=w.emit_every_sec,
    )
    bounds = TimeBounds(
        max_future=w.max_future_sec,
        min_timestamp=w.min_timestamp.timestamp(),
        max_age=w.max_age_sec,
    )
    windows: StateCache[RowStore, SeriesState] = StateCache(
        RowStore(tables.windows, sender),
        lambda key, get: SeriesState.load(key, series_config, get),
    )

    def load_detector(
        key: bytes, get: Callable[[bytes], bytes | None]
    ) -> PersistedDetector[Detector]:
        _, metric_name = parse_metric_key(key)
        return PersistedDetector.load(
            key, get, lambda: build_detector(settings.detection, metric_name), _replay
        )

    detectors: StateCache[RowStore, PersistedDetector[Detector]] = StateCache(
        RowStore(tables.detectors, sender),
        load_detector,
        max_items=settings.detection.cached_detectors,
    )
    alert_states: StateCache[RowStore, AlertState | None] = StateCache(
        RowStore(tables.alert_states, sender), load_alert_state
    )
    notify_store = RowStore(tables.notify, sender)
    h = settings.history
    history_config = HistoryConfig(
        retention=h.retention_sec,
        step=h.step_sec,
        chunk_buckets=h.chunk_buckets,
        # Every sample the window accepts (at most allowed_lateness late) finds its bucket open.
        open_buckets=math.ceil(w.allowed_lateness_sec / h.step_sec) + 1,
    )
    history_rows = RowStore(tables.history, sender)

    def history_cache(kind: bytes) -> StateCache[RowStore, HistoryState]:
        return StateCache(
            history_rows,
            lambda key, get: HistoryState.load(key, history_config, kind, get),
            max_items=h.cached,
        )

    history = history_cache(VALUES)
    score_history = history_cache(SCORES)
    return Stream(
        settings=settings,
        app=app,
        topics=topics,
        tables=tables,
        sender=sender,
        windows=windows,
        detectors=detectors,
        alert_states=alert_states,
        notify_store=notify_store,
        history=history,
        score_history=score_history,
        history_config=history_config,
        notification=NotificationHolder(lambda: NotificationStage(settings.alerting, notify_store)),
        ingest=Ingest(
            windows,
            sender,
            features_topic=topics.features.get_topic_name(),
            metrics_topic=topics.metrics.get_topic_name(),
            partitions=settings.topics.partitions,
            bounds=bounds,
            rewind_after=w.rewind_after,
            limits=DecodeLimits(
                max_bytes=limits.max_metric_bytes,
                max_name_chars=limits.max_name_chars,
                max_labels=limits.max_labels,
                max_label_chars=limits.max_label_chars,
            ),
            history=history,
        ),
        detect=Detect(
            detectors,
            sender,
            anomalies_topic=topics.anomalies.get_topic_name(),
            threshold=settings.detection.anomaly_threshold,
            history=score_history,
        ),
        lifecycle=AlertLifecycle(
            alert_states,
            AlertEngine(settings.alerting.lifecycle, settings.alerting.external_url),
            sender,
            events_topic=topics.alert_events.get_topic_name(),
            clocks=EventClocks(bounds),
            intervals=history_rows,
            intervals_retention=h.retention_sec,
        ),
        bounds=bounds,
    )
