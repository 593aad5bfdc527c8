"""anomalies → the seed's alert policy → alerts topic and notifications."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson

from padit_stream.agents.deadletter import dead_letter
from padit_stream.app import app, settings
from padit_stream.core.alert_policy import build_alert, severity_for
from padit_stream.core.records import decode_record
from padit_stream.errors import DecodeError
from padit_stream.topics import alerts_topic, anomalies_topic

__all__ = ["raise_alerts"]

logger = logging.getLogger(__name__)

_REQUIRED = ("timestamp", "source_id", "metric_name", "score", "is_anomaly")


async def _notify(client: httpx.AsyncClient, url: str, body: bytes) -> None:
    try:
        response = await client.post(
            url, content=body, headers={"content-type": "application/json"}
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        logger.error("webhook delivery to %s failed: %s", url, exc)


@app.agent(anomalies_topic, name="padit.alert")
async def raise_alerts(stream: Any) -> None:
    """Turn anomalous evaluations at or above the alert threshold into alerts."""
    conf = settings.alerting
    await alerts_topic.maybe_declare()
    async with httpx.AsyncClient(timeout=conf.webhook_timeout_sec) as client:
        async for event in stream.events():
            try:
                anomaly = decode_record(event.message.value, _REQUIRED)
            except DecodeError as exc:
                dead_letter(event, exc.reason, "alert")
                continue
            if not anomaly["is_anomaly"]:
                continue
            severity = severity_for(
                float(anomaly["score"]), conf.alert_threshold, conf.critical_threshold
            )
            if severity is None:
                continue
            alert = build_alert(anomaly, severity)
            body = orjson.dumps(alert)
            await alerts_topic.send(key=event.message.key, value=body)
            logger.warning("ALERT %s [%s] %s", alert["alert_id"], severity, alert["title"])
            if conf.webhook_url:
                await _notify(client, conf.webhook_url, body)
