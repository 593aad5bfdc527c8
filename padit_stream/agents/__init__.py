"""Faust agents and timers: thin adapters from Faust to the stages in :mod:`padit_stream.stages`.

The metrics, features and anomalies topics are read by bulk agents (a partition slice per
call; see :mod:`padit_stream.consumer`); the alert events by a Faust agent (one partition,
few records); stale alerts and due notifications by timers.
"""

from __future__ import annotations

import logging
from typing import Any

from padit_stream.agents import alerting, alertmanager, notify
from padit_stream.stream import Stream

__all__ = ["register"]

logger = logging.getLogger(__name__)


def register(stream: Stream) -> None:
    """Register every agent and timer of the stream job on ``stream.app``."""
    app = stream.app
    topics = stream.topics
    app.bulk_agent(topics.metrics, stage="window", reset=stream.ingest.reset)(stream.ingest)
    app.bulk_agent(topics.features, stage="detect", reset=stream.detect.reset)(stream.detect)
    app.bulk_agent(topics.anomalies, stage="alert", reset=stream.lifecycle.reset)(stream.lifecycle)
    alerting.register(stream)
    notify.register(stream)
    alertmanager.register(stream)

    @app.on_rebalance_complete.connect  # type: ignore[untyped-decorator]
    def _after_recovery(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # Recovery wrote changelog records into RocksDB behind the caches' backs.
        stream.forget_state()

    @app.on_partitions_revoked.connect  # type: ignore[untyped-decorator]
    def _on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # A partition that comes back later may have been changed by another worker.
        logger.info("partitions revoked: dropping decoded state caches")
        stream.forget_state()
        stream.notification.drop()
