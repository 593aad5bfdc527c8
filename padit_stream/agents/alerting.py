"""anomalies → alert lifecycle per fingerprint (table) → alert events.

The lifecycle stage is partitioned like the anomalies; its transitions (firing, escalated,
resolved) go to a one-partition topic for the notification stage (``agents.notify``).
"""

from __future__ import annotations

from typing import Any

import orjson

from padit_stream.agents.deadletter import dead_letter
from padit_stream.alerting import Alert, AlertEngine, AlertState, Anomaly
from padit_stream.app import app, settings
from padit_stream.core.records import decode_record
from padit_stream.core.wire import metric_key
from padit_stream.errors import DecodeError
from padit_stream.tables import alert_clock, alert_states, sender
from padit_stream.topics import alert_events_topic, anomalies_topic

__all__ = ["evaluate_alerts", "resolve_stale"]

_REQUIRED = ("timestamp", "source_id", "metric_name", "score")

engine = AlertEngine(settings.alerting.lifecycle, settings.alerting.external_url)


def _publish(alerts: list[Alert]) -> None:
    for alert in alerts:
        alert_events_topic.send_soon(
            key=metric_key(alert.source_id, alert.metric_name),
            value=orjson.dumps(alert.to_dict()),
        )


@app.agent(anomalies_topic, name="padit.alert")
async def evaluate_alerts(stream: Any) -> None:
    """Advance each series' alert lifecycle with every evaluation."""
    await alert_events_topic.maybe_declare()
    async for events in stream.take_events(settings.app.batch_size, settings.app.batch_timeout_sec):
        touched: dict[bytes, tuple[int, AlertState]] = {}
        for event in events:
            message = event.message
            try:
                anomaly = Anomaly.from_dict(decode_record(message.value, _REQUIRED))
            except DecodeError as exc:
                dead_letter(event, exc.reason, "alert")
                continue
            alert_clock.see(anomaly.timestamp)
            key = anomaly.fingerprint.encode()
            partition = message.partition
            before = alert_states.get(partition, key)
            state, alerts = engine.on_anomaly(before, anomaly)
            # A series that is and stays inactive has nothing worth keeping or persisting.
            if before is not None or state.phase != "inactive":
                alert_states.put(partition, key, state)
                touched[key] = (partition, state)
            _publish(alerts)
        for key, (partition, state) in touched.items():
            alert_states.rows.write(partition, [(key, state.encode())])
        await sender.flush()


@app.timer(10.0, name="padit.alert.stale")  # type: ignore[untyped-decorator]
async def resolve_stale() -> None:
    """Resolve alerts whose series went quiet (event time: the newest evaluation seen)."""
    now = alert_clock.now
    for key, partition, state in alert_states.cached():
        if state is None or state.phase == "inactive":
            continue
        phase = state.phase
        state, alerts = engine.on_tick(state, now)
        if alerts or state.phase != phase:
            _publish(alerts)
            alert_states.rows.write(partition, [(key, state.encode())])
    await sender.flush()
