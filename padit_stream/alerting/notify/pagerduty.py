"""PagerDuty Events API v2: one ``trigger`` or ``resolve`` event per alert, with the
alert's fingerprint as ``dedup_key`` so every incident of a series maps to one PagerDuty
alert and a resolve closes the one its trigger opened."""

from __future__ import annotations

from typing import Any

import httpx

from padit_stream.alerting.config import PagerDutyConfig, secret_from_env
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify.base import HttpMessage, HttpNotifier, user_agent_headers
from padit_stream.schema import Alert, rfc3339

__all__ = ["PagerDutyNotifier", "pagerduty_event"]

#: PagerDuty truncates summaries at 1024 characters; cutting here keeps the end readable.
_SUMMARY_MAX = 1024


def pagerduty_event(
    alert: Alert,
    routing_key: str,
    severity_map: dict[str, str],
    client: str = "PADIT",
    client_url: str = "",
    group: str = "",
) -> dict[str, Any]:
    """The Events API v2 body for one alert (``resolve`` carries no payload)."""
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if alert.status == "resolved" else "trigger",
        "dedup_key": alert.fingerprint,
    }
    if alert.status == "resolved":
        return event
    summary = f"[{alert.severity.upper()}] {alert.title}: {alert.description}"
    if len(summary) > _SUMMARY_MAX:
        summary = summary[: _SUMMARY_MAX - 1] + "…"
    custom = {
        "alert_id": alert.alert_id,
        "score": alert.score,
        "peak_score": alert.peak_score,
        "labels": dict(alert.labels),
        "evidence": alert.evidence,
    }
    payload: dict[str, Any] = {
        "summary": summary,
        "source": alert.source_id,
        "severity": severity_map.get(alert.severity, "info"),
        "timestamp": rfc3339(alert.starts_at),
        "component": alert.metric_name,
        "class": alert.detector or "anomaly",
        "custom_details": custom,
    }
    if group:
        payload["group"] = group
    event["payload"] = payload
    event["client"] = client
    url = alert.generator_url or client_url
    if url:
        event["client_url"] = url
    return event


class PagerDutyNotifier(HttpNotifier):
    """Sends Events API v2 events; the routing key comes from ``routing_key_env``."""

    kind = "pagerduty"

    def __init__(
        self,
        name: str,
        config: PagerDutyConfig,
        client: httpx.AsyncClient,
        external_url: str = "",
    ) -> None:
        super().__init__(name, config.send_resolved, client, config.timeout)
        self.config = config
        self.routing_key = secret_from_env(config.routing_key_env, f"{name}.routing_key_env")
        self.headers = user_agent_headers()
        self.external_url = external_url

    def render(self, notification: Notification) -> list[Any]:
        group = ",".join(f"{k}={v}" for k, v in notification.group_labels.items())
        return [
            HttpMessage(
                self.config.url,
                pagerduty_event(
                    alert,
                    self.routing_key,
                    dict(self.config.severity_map),
                    self.config.client,
                    self.external_url,
                    group,
                ),
                self.headers,
            )
            for alert in self.alerts_for(notification)
        ]
