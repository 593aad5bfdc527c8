"""Prometheus metrics of one worker: every ``padit_*`` metric is defined here.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (several apps in one test
process must not collide). The hot path pays one call per partition slice
(:meth:`StreamTelemetry.on_slice`, from the bulk consumer): a counter add and a histogram
observation, never work per record. Everything else is read when Prometheus scrapes, by
:class:`_StreamCollector` from counters the stream keeps anyway (the batch sender's, the
notification stage's delivery figures, the consumer's offsets, the state caches).
"""

from __future__ import annotations

import logging
import platform
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from importlib import metadata
from typing import Any

import orjson
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from padit_stream.deadletter import REASON_CLASSES

__all__ = ["AlertmanagerCollector", "StreamTelemetry"]

logger = logging.getLogger(__name__)

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_EVAL_SECONDS = (1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05)
_LAG_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
_RECOVERY_SECONDS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
_PHASES = ("pending", "firing")
#: Stages that dead-letter (padit_stream.stages, agents, the batch sender).
_DEAD_LETTER_STAGES = ("decode", "window", "detect", "alert", "notify", "send", "alertmanager")
_DEAD_LETTER_KEYS = [(s, r) for s in _DEAD_LETTER_STAGES for r in REASON_CLASSES]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


class StreamTelemetry:
    """The metrics of one worker, and the hooks the stream calls to feed them.

    Args:
        stream: the worker's :class:`padit_stream.stream.Stream` (read at scrape time).
        series: the per-series exporter, when enabled (see :mod:`padit_stream.series_export`).
    """

    def __init__(self, stream: Any, series: Any = None) -> None:
        self.stream = stream
        self.series = series
        self.registry = CollectorRegistry(auto_describe=False)
        topics = stream.topics
        stages = {
            topics.metrics.get_topic_name(): "window",
            topics.features.get_topic_name(): "detect",
            topics.anomalies.get_topic_name(): "alert",
        }
        #: The bulk topics, exported from 0 before their first record.
        self.stage_topics = tuple(stages)
        self._features = topics.features.get_topic_name()
        self._anomalies = topics.anomalies.get_topic_name()
        #: topic -> records read (bulk topics, counted per slice; others by their agents).
        self.records_in: Counter[str] = Counter()
        #: (status, severity) -> alert transitions seen by the notification stage.
        self.alert_events: Counter[tuple[str, str]] = Counter()
        self.rebalances = 0
        self._assigned_at: float | None = None
        r = self.registry
        batch = Histogram(
            "padit_batch_duration_seconds",
            "Time a stage took for one partition slice of its input.",
            ["stage"], buckets=_SECONDS, registry=r,
        )  # fmt: skip
        self._batch = {topic: batch.labels(stage) for topic, stage in stages.items()}
        self._evaluation = Histogram(
            "padit_detector_evaluation_seconds",
            "Detector time per evaluation (score and learn), the mean of one slice.",
            buckets=_EVAL_SECONDS, registry=r,
        )  # fmt: skip
        self._lag = Histogram(
            "padit_end_to_end_lag_seconds",
            "Wall time minus event time of the newest evaluation of a slice, when the "
            "alert stage has processed it.",
            buckets=_LAG_SECONDS, registry=r,
        )  # fmt: skip
        self.recovery = Histogram(
            "padit_state_recovery_seconds",
            "From a partition assignment to its tables being recovered.",
            buckets=_RECOVERY_SECONDS, registry=r,
        )  # fmt: skip
        Info("padit_build", "PADIT build.", registry=r).info(
            {
                "version": _version("padit"),
                "python_version": platform.python_version(),
                "faust_version": _version("faust-streaming"),
            }
        )
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        r.register(_StreamCollector(self))
        if series is not None:
            r.register(series)
        #: Collectors added later (the Alertmanager client's).
        self.extra: list[Collector] = []

    # ---- hooks -------------------------------------------------------------------------

    def on_slice(self, topic: str, partition: int, records: Sequence[Any], started: float) -> None:
        """A bulk stage finished a slice it began at ``time.perf_counter()`` ``started``."""
        elapsed = time.perf_counter() - started
        self.records_in[topic] += len(records)
        child = self._batch.get(topic)
        if child is not None:
            child.observe(elapsed)
        if topic == self._features:
            self._evaluation.observe(elapsed / len(records))
        elif topic == self._anomalies:
            self._observe_lag(records[-1])
        else:
            return
        if self.series is not None:
            self.series.observe(partition, records)

    def _observe_lag(self, record: Any) -> None:
        try:
            ts = float(orjson.loads(record.value)["timestamp"])
        except Exception:
            return  # the alert stage dead-letters it
        self._lag.observe(max(0.0, time.time() - ts))

    def connect(self, app: Any) -> None:
        """Count rebalances and time recoveries from the app's signals."""

        @app.on_partitions_assigned.connect  # type: ignore[untyped-decorator]
        async def _assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            self.on_assigned()

        @app.on_rebalance_complete.connect  # type: ignore[untyped-decorator]
        async def _recovered(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            self.on_recovered()

        @app.on_partitions_revoked.connect  # type: ignore[untyped-decorator]
        async def _revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            if self.series is not None:
                self.series.clear()

    def on_assigned(self) -> None:
        self.rebalances += 1
        self._assigned_at = time.monotonic()

    def on_recovered(self) -> None:
        if self._assigned_at is not None:
            self.recovery.observe(time.monotonic() - self._assigned_at)
            self._assigned_at = None

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)
        self.extra.append(collector)

    def exposition(self) -> bytes:
        """The Prometheus text exposition of every metric of this worker."""
        return generate_latest(self.registry)


class _StreamCollector(Collector):
    """Reads the stream's own counters and state when Prometheus scrapes."""

    def __init__(self, telemetry: StreamTelemetry) -> None:
        self.t = telemetry

    def collect(self) -> Iterator[Metric]:
        t = self.t
        stream = t.stream
        sender = stream.sender
        records_in = {topic: 0 for topic in t.stage_topics} | dict(t.records_in)
        yield _counter(
            "padit_records_in", "Records read, per input topic.", ["topic"],
            [((k,), v) for k, v in sorted(records_in.items())],
        )  # fmt: skip
        yield _counter(
            "padit_outputs", "Records the broker acknowledged, per output topic.", ["topic"],
            [((k,), v) for k, v in sender.produced.items()],
        )  # fmt: skip
        # Every known (stage, reason) is exported from 0: rate() sees the first dead letter
        # only if the series existed before it.
        dead = dict.fromkeys(_DEAD_LETTER_KEYS, 0) | dict(sender.dead_letter_classes)
        yield _counter(
            "padit_dead_letters", "Records dead-lettered, per stage and reason class.",
            ["stage", "reason"], sorted(dead.items()),
        )  # fmt: skip
        yield _counter(
            "padit_output_retries", "Output batches sent again after the broker refused them.",
            [], [((), sender.stats["send_retries"])],
        )  # fmt: skip
        yield _counter(
            "padit_outputs_lost", "Dead letters the broker refused as well (dropped).",
            [], [((), sender.stats["lost"])],
        )  # fmt: skip
        yield _counter(
            "padit_rebalances", "Partition assignments this worker received.",
            [], [((), t.rebalances)],
        )  # fmt: skip
        yield _counter(
            "padit_alert_transitions", "Alert records (firing, resolved) per severity.",
            ["status", "severity"], t.alert_events.items(),
        )  # fmt: skip
        yield from self._consumer(stream.app)
        held = GaugeMetricFamily(
            "padit_series_held", "Series whose state this worker holds decoded, per state.",
            labels=["state"],
        )  # fmt: skip
        held.add_metric(["window"], len(stream.windows))
        held.add_metric(["detector"], len(stream.detectors))
        yield held
        yield self._alerts(stream)
        yield from self._notifications(stream)

    def _consumer(self, app: Any) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "padit_consumer_lag", "Records not yet read, per assigned input partition.",
            labels=["topic", "partition"],
        )  # fmt: skip
        stalled = GaugeMetricFamily(
            "padit_stalled_seconds", "Time without progress while input is waiting."
        )
        consumer: Any = getattr(app, "_consumer", None)
        if consumer is not None:
            try:
                stalled.add_metric([], consumer.stalled_for())
                sources = {t.get_topic_name() for t in self.t.stream.topics.all()}
                read = consumer._read_offset  # private Faust API, as in consumer.py
                for tp in sorted(consumer.assignment()):
                    if tp.topic not in sources:
                        continue
                    high = consumer.highwater(tp)
                    offset = read.get(tp)
                    if high is None:
                        continue
                    done = offset + 1 if offset is not None else 0
                    lag.add_metric([tp.topic, str(tp.partition)], max(0, high - done))
            except Exception as exc:  # not started or rebalancing: nothing to report yet
                logger.debug("consumer lag not available: %r", exc)
        yield lag
        yield stalled

    def _alerts(self, stream: Any) -> Metric:
        gauge = GaugeMetricFamily(
            "padit_alerts", "Alerts this worker holds, per state and severity.",
            labels=["state", "severity"],
        )  # fmt: skip
        counts: Counter[tuple[str, str]] = Counter()
        lifecycle = stream.lifecycle
        for partition, keys in list(lifecycle.active.items()):
            for key in list(keys):
                try:
                    state = lifecycle.states.read(partition, key)
                except Exception:
                    continue
                if state is not None and state.phase in _PHASES:
                    counts[state.phase, state.severity] += 1
        for (phase, severity), n in sorted(counts.items()):
            gauge.add_metric([phase, severity], n)
        return gauge

    def _notifications(self, stream: Any) -> Iterator[Metric]:
        stage = stream.notification.peek()
        per: dict[str, Any] = stage.delivery_stats()["integrations"] if stage else {}
        for outcome, help_text in (
            ("sent", "Notifications delivered, per integration."),
            ("retried", "Notification attempts after a failure, per integration."),
            ("failed", "Notifications dropped undelivered, per integration."),
        ):
            yield _counter(
                f"padit_notifications_{outcome}", help_text, ["integration"],
                (((name,), figures[outcome]) for name, figures in per.items()),
            )  # fmt: skip
        pending = GaugeMetricFamily(
            "padit_notifications_pending", "Notifications waiting in the outbox.",
            labels=["integration"],
        )  # fmt: skip
        for name, figures in per.items():
            pending.add_metric([name], figures["pending"])
        yield pending


def _counter(name: str, help_text: str, labels: list[str], values: Any) -> Metric:
    family = CounterMetricFamily(name, help_text, labels=labels)
    for label_values, value in values:
        family.add_metric(list(label_values), value)
    return family


class AlertmanagerCollector(Collector):
    """The Alertmanager client's figures (:mod:`padit_stream.alertmanager`)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def collect(self) -> Iterator[Metric]:
        c = self.client
        yield _counter(
            "padit_alertmanager_alerts_sent", "Alerts an Alertmanager accepted.",
            ["alertmanager"], [((url,), n) for url, n in c.sent.items()],
        )  # fmt: skip
        yield _counter(
            "padit_alertmanager_errors", "Pushes to an Alertmanager that failed.",
            ["alertmanager"], [((url,), n) for url, n in c.errors.items()],
        )  # fmt: skip
        pending = GaugeMetricFamily(
            "padit_alertmanager_pending", "Alerts waiting to be pushed to an Alertmanager.",
            labels=["alertmanager"],
        )  # fmt: skip
        for url, n in c.pending().items():
            pending.add_metric([url], n)
        yield pending
