"""The topics: names versioned (``padit.metrics.v1``), partitions and replication from settings.

All carry raw bytes: keys are :func:`padit_stream.core.wire.metric_key`, values JSON.
"""

from __future__ import annotations

from faust.types import TopicT

from padit_stream.app import app, settings

__all__ = [
    "alert_events_topic",
    "alerts_topic",
    "anomalies_topic",
    "dead_letter_topic",
    "features_topic",
    "metrics_topic",
]


def _topic(kind: str, partitions: int | None = None) -> TopicT:
    topic = app.topic(
        settings.topics.name(kind),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions or settings.topics.partitions,
        replicas=settings.topics.replication,
        # Internal: PADIT owns these topics, so the worker creates them (with the configured
        # partitions) before it subscribes; Faust skips missing source topics otherwise.
        internal=True,
    )
    app.owned_topics = [*getattr(app, "owned_topics", []), topic]
    return topic


metrics_topic = _topic("metrics")
features_topic = _topic("features")
anomalies_topic = _topic("anomalies")
alerts_topic = _topic("alerts")
dead_letter_topic = _topic("deadletter")
# Lifecycle transitions on their way to the notification stage. One partition: silences,
# inhibition and grouping need every alert in one place (alert volume is small).
alert_events_topic = _topic("alert-events", partitions=1)
