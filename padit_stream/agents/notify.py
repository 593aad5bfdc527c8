"""alert events → silences, inhibition, grouping → alerts topic and notifications."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from padit_stream.agents.deadletter import dead_letter
from padit_stream.alerting import Alert
from padit_stream.app import app
from padit_stream.core.records import decode_record
from padit_stream.errors import DecodeError
from padit_stream.tables import is_local, notification, notify_rows, owner_of, sender
from padit_stream.topics import alert_events_topic, alerts_topic

__all__ = ["notify", "notify_tick"]

logger = logging.getLogger(__name__)

_REQUIRED = ("alert_id", "fingerprint", "status", "source_id", "metric_name")


@app.agent(alert_events_topic, name="padit.notify")
async def notify(stream: Any) -> None:
    """Record every alert on the alerts topic (marked when muted) and group it."""
    await alerts_topic.maybe_declare()
    async for event in stream.events():
        message = event.message
        try:
            alert = Alert.from_dict(decode_record(message.value, _REQUIRED))
        except DecodeError as exc:
            dead_letter(message, exc.reason, "notify")
            continue
        marked = await notification.get().on_alert(alert)
        await sender.flush()
        await alerts_topic.send(key=message.key, value=orjson.dumps(marked.to_dict()))
        muted = " (silenced)" if marked.silenced else ""
        logger.warning(
            "ALERT %s %s [%s]%s %s", marked.status, marked.alert_id, marked.severity, muted,
            marked.title,
        )  # fmt: skip


@app.timer(1.0, name="padit.notify.tick")  # type: ignore[untyped-decorator]
async def notify_tick() -> None:
    """Send due notifications and retry undelivered ones, on the stage's owner only."""
    for stage in notification.retired:
        await stage.close()
    notification.retired.clear()
    if not is_local(owner_of(notify_rows, 0)):
        return
    await notification.get().tick()
    await sender.flush()
