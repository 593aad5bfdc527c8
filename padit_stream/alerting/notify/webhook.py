"""Generic webhook in Alertmanager's format (version "4"), so existing receivers of
Alertmanager webhooks accept PADIT's notifications unchanged."""

from __future__ import annotations

from typing import Any

import httpx

from padit_stream.alerting.config import WebhookConfig, secret_from_env
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify.base import HttpMessage, HttpNotifier, user_agent_headers
from padit_stream.schema import Alert, rfc3339

__all__ = ["WebhookNotifier", "alertmanager_payload"]


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": rfc3339(alert.starts_at),
        "endsAt": rfc3339(alert.ends_at),
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def alertmanager_payload(
    notification: Notification,
    alerts: list[Alert],
    external_url: str = "",
    max_alerts: int = 0,
) -> dict[str, Any]:
    """The JSON body of Alertmanager's webhook for ``alerts`` of ``notification``.

    ``max_alerts`` > 0 keeps that many alerts and reports the rest in
    ``truncatedAlerts``; the status is ``firing`` while any alert fires.
    """
    kept = alerts[:max_alerts] if max_alerts > 0 else list(alerts)
    status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": notification.group_key,
        "truncatedAlerts": len(alerts) - len(kept),
        "status": status,
        "receiver": notification.receiver,
        "groupLabels": dict(notification.group_labels),
        "commonLabels": _common(a.labels for a in alerts),
        "commonAnnotations": _common(a.annotations for a in alerts),
        "externalURL": external_url,
        "alerts": [_alert_json(a) for a in kept],
    }


def _common(maps: Any) -> dict[str, str]:
    common: dict[str, str] | None = None
    for m in maps:
        common = dict(m) if common is None else {k: v for k, v in common.items() if m.get(k) == v}
    return dict(sorted((common or {}).items()))


class WebhookNotifier(HttpNotifier):
    """POSTs Alertmanager-format JSON to a URL (``url`` or the variable ``url_env``).

    Example:
        >>> import httpx
        >>> from padit_stream.alerting.config import WebhookConfig
        >>> n = WebhookNotifier("ops/webhook[0]", WebhookConfig(url="http://127.0.0.1:9/hook"),
        ...                     httpx.AsyncClient())
        >>> n.url
        'http://127.0.0.1:9/hook'
    """

    kind = "webhook"

    def __init__(
        self,
        name: str,
        config: WebhookConfig,
        client: httpx.AsyncClient,
        external_url: str = "",
    ) -> None:
        super().__init__(name, config.send_resolved, client, config.timeout)
        self.config = config
        self.url = config.url or secret_from_env(str(config.url_env), f"{name}.url_env")
        extra = {}
        if config.bearer_token_env:
            token = secret_from_env(config.bearer_token_env, f"{name}.bearer_token_env")
            extra["Authorization"] = f"Bearer {token}"
        self.headers = user_agent_headers(extra)
        self.external_url = external_url

    def render(self, notification: Notification) -> list[Any]:
        alerts = self.alerts_for(notification)
        if not alerts:
            return []
        body = alertmanager_payload(notification, alerts, self.external_url, self.config.max_alerts)
        return [HttpMessage(self.url, body, self.headers)]
