"""anomalies → alert lifecycle per fingerprint (table) → alert events.

The lifecycle stage is partitioned like the anomalies; its transitions (firing, escalated,
resolved) go to a one-partition topic for the notification stage (``agents.notify``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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

logger = logging.getLogger(__name__)

_REQUIRED = ("timestamp", "source_id", "metric_name", "score")

engine = AlertEngine(settings.alerting.lifecycle, settings.alerting.external_url)


def _publish(alerts: list[Alert]) -> None:
    for alert in alerts:
        alert_events_topic.send_soon(
            key=metric_key(alert.source_id, alert.metric_name),
            value=orjson.dumps(alert.to_dict()),
        )


@app.bulk_agent(anomalies_topic, name="padit.alert")
def evaluate_alerts(partition: int, records: Sequence[Any]) -> None:
    """Advance each series' alert lifecycle with every evaluation."""
    touched: dict[bytes, AlertState] = {}
    for record in records:
        try:
            anomaly = Anomaly.from_dict(decode_record(record.value, _REQUIRED))
            alert_clock.see(anomaly.timestamp)
            key = anomaly.fingerprint.encode()
            before = alert_states.get(partition, key)
            state, alerts = engine.on_anomaly(before, anomaly)
            # A series that is and stays inactive has nothing worth keeping or persisting.
            if before is not None or state.phase != "inactive":
                alert_states.put(partition, key, state)
                touched[key] = state
            _publish(alerts)
        except DecodeError as exc:
            dead_letter(record, exc.reason, "alert")
        except Exception as exc:  # a bug must cost one record, not the worker
            logger.exception("alerting failed on %s[%d]@%d", record.topic, partition, record.offset)
            dead_letter(record, f"internal error: {exc!r}", "alert")
    if touched:
        alert_states.rows.write(partition, [(key, s.encode()) for key, s in touched.items()])


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
