"""The topics: names versioned (``padit.metrics.v1``), partitions and replication from settings.

All carry raw bytes: keys are :func:`padit_stream.schema.metric_key`, values JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from padit_stream.settings import Settings

__all__ = ["Topics", "create_topics"]


@dataclass(frozen=True)
class Topics:
    """PADIT's topics on one app (Faust topic objects; ``.name(...)`` for their names)."""

    metrics: Any
    features: Any
    anomalies: Any
    alerts: Any
    deadletter: Any
    #: Lifecycle transitions on their way to the notification stage. One partition:
    #: silences, inhibition and grouping need every alert in one place (alert volume is small).
    alert_events: Any

    def all(self) -> list[Any]:
        return [
            self.metrics,
            self.features,
            self.anomalies,
            self.alerts,
            self.deadletter,
            self.alert_events,
        ]


def create_topics(app: Any, settings: Settings) -> Topics:
    """Declare PADIT's topics on ``app``; the worker creates them before it subscribes."""

    def topic(kind: str, partitions: int | None = None) -> Any:
        return app.topic(
            settings.topics.name(kind),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions or settings.topics.partitions,
            replicas=settings.topics.replication,
            # Internal: PADIT owns these topics, so the worker creates them (with the
            # configured partitions) before it subscribes; Faust skips missing source topics
            # otherwise.
            internal=True,
        )

    return Topics(
        metrics=topic("metrics"),
        features=topic("features"),
        anomalies=topic("anomalies"),
        alerts=topic("alerts"),
        deadletter=topic("deadletter"),
        alert_events=topic("alert-events", partitions=1),
    )
