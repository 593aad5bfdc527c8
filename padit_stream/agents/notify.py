"""alert events → silences, inhibition, grouping → alerts topic and notifications."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from padit_stream.api import alerting_adapter
from padit_stream.cluster import is_local, owner_of
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert, decode_record, partition_for_key
from padit_stream.stages import internal_error
from padit_stream.stream import Stream

__all__ = ["register"]

logger = logging.getLogger(__name__)

STAGE = "notify"
_REQUIRED = ("alert_id", "fingerprint", "status", "source_id", "metric_name")


def register(stream: Stream) -> None:
    app = stream.app
    sender = stream.sender
    alerts_topic = stream.topics.alerts.get_topic_name()
    alert_partitions = stream.settings.topics.partitions
    telemetry = app.telemetry
    # Off when Alertmanager routes and notifies (padit_stream.alertmanager): the alerts topic
    # is still written, unmarked by PADIT's silences.
    builtin = stream.settings.alertmanager.builtin_notifications

    @app.agent(stream.topics.alert_events, name="padit.notify")  # type: ignore[untyped-decorator]
    async def notify(events: Any) -> None:
        """Record every alert on the alerts topic (marked when muted) and group it."""
        async for event in events.events():
            message = event.message
            telemetry.records_in[message.topic] += 1
            try:
                alert = Alert.from_dict(decode_record(message.value, _REQUIRED))
                marked = await stream.notification.get().on_alert(alert) if builtin else alert
                alerting_adapter.record_alert(stream, marked)  # the API's incident log
                telemetry.alert_events[marked.status, marked.severity] += 1
                key = message.key
                sender.add(
                    alerts_topic,
                    partition_for_key(key, alert_partitions) if key else 0,
                    key,
                    orjson.dumps(marked.to_dict()),
                )
                muted = " (suppressed)" if marked.suppressed else ""
                logger.warning(
                    "ALERT %s %s [%s]%s %s", marked.status, marked.alert_id, marked.severity,
                    muted, marked.title,
                )  # fmt: skip
            except DecodeError as exc:
                sender.dead_letter(message, exc.reason, STAGE)
            except Exception as exc:  # one alert must not stop the notification stage
                logger.exception("notification stage failed on %s@%d", message.topic,
                                 message.offset)  # fmt: skip
                sender.dead_letter(message, internal_error(exc), STAGE)
            await sender.flush()

    @app.timer(1.0, name="padit.notify.tick")  # type: ignore[untyped-decorator]
    async def notify_tick() -> None:
        """Send due notifications and retry undelivered ones, on the stage's owner only."""
        try:
            holder = stream.notification
            for stage in holder.retired:
                await stage.close()
            holder.retired.clear()
            if not builtin or not is_local(app, owner_of(app, stream.tables.notify, 0)):
                return
            await holder.get().tick()
            await sender.flush()
        except Exception:  # a timer that raises would stop the worker: log, try next tick
            logger.exception("notification tick failed; trying again")
