"""The stale-alert timer: resolves alerts whose series went quiet (see ``stages.alert``)."""

from __future__ import annotations

import logging

from padit_stream.cluster import recovered
from padit_stream.stream import Stream

__all__ = ["register"]

logger = logging.getLogger(__name__)

TICK_SEC = 10.0


def register(stream: Stream) -> None:
    app = stream.app
    anomalies = stream.topics.anomalies.get_topic_name()

    @app.timer(TICK_SEC, name="padit.alert.stale")  # type: ignore[untyped-decorator]
    async def resolve_stale() -> None:
        if app.rebalancing or not recovered(app):
            return  # rows are moving: the index would be built from half a partition
        try:
            partitions = sorted(
                tp.partition for tp in app.consumer.assignment() if tp.topic == anomalies
            )
            stream.lifecycle.tick(partitions)
            await stream.sender.flush()
        except Exception:  # a timer that raises would stop the worker: log, try next tick
            logger.exception("resolving stale alerts failed; trying again in %.0f s", TICK_SEC)
