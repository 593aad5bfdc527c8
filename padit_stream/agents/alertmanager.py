"""alerts topic → Alertmanagers: the agent and timer of :mod:`padit_stream.alertmanager`.

Registered only when ``alertmanager.urls`` is set. Each worker keeps and pushes the alerts
of the alerts-topic partitions it owns (the table is partitioned like that topic).
"""

from __future__ import annotations

import logging
from typing import Any

from padit_stream.alertmanager import AlertmanagerClient
from padit_stream.cluster import recovered
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert, decode_record
from padit_stream.stages import internal_error
from padit_stream.stores import RowStore
from padit_stream.stream import Stream
from padit_stream.telemetry import AlertmanagerCollector

__all__ = ["register"]

logger = logging.getLogger(__name__)

STAGE = "alertmanager"
TICK_SEC = 1.0
_REQUIRED = ("alert_id", "fingerprint", "status", "starts_at")


def register(stream: Stream) -> AlertmanagerClient | None:
    """Add the Alertmanager agent, table and timer to ``stream.app`` (if configured)."""
    settings = stream.settings
    if not settings.alertmanager.urls:
        return None
    app = stream.app
    sender = stream.sender
    table = app.Table(
        "alertmanager",
        key_type=bytes,
        value_type=bytes,
        partitions=settings.topics.partitions,
        help="Alerts pushed to Alertmanager: the newest record per fingerprint.",
    )
    client = AlertmanagerClient(settings.alertmanager, RowStore(table, sender))
    alerts_topic = stream.topics.alerts.get_topic_name()
    telemetry = app.telemetry
    telemetry.add_collector(AlertmanagerCollector(client))

    @app.agent(stream.topics.alerts, name="padit.alertmanager")  # type: ignore[untyped-decorator]
    async def to_alertmanager(events: Any) -> None:
        """Keep each alert record and queue it for the Alertmanagers."""
        async for event in events.events():
            message = event.message
            telemetry.records_in[message.topic] += 1
            try:
                alert = Alert.from_dict(decode_record(message.value, _REQUIRED))
                client.on_alert(message.partition, alert)
            except DecodeError as exc:
                sender.dead_letter(message, exc.reason, STAGE)
            except Exception as exc:  # one alert must not stop the agent
                logger.exception("alertmanager agent failed on %s@%d", message.topic,
                                 message.offset)  # fmt: skip
                sender.dead_letter(message, internal_error(exc), STAGE)
            await sender.flush()

    @app.timer(TICK_SEC, name="padit.alertmanager.tick")  # type: ignore[untyped-decorator]
    async def push() -> None:
        if app.rebalancing or not recovered(app):
            return  # rows are moving
        try:
            partitions = sorted(
                tp.partition for tp in app.consumer.assignment() if tp.topic == alerts_topic
            )
            await client.tick(partitions)
            await sender.flush()
        except Exception:  # a timer that raises would stop the worker: log, try next tick
            logger.exception("pushing to Alertmanager failed; trying again")

    @app.on_partitions_assigned.connect  # type: ignore[untyped-decorator]
    async def _assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        client.on_assigned()

    return client
