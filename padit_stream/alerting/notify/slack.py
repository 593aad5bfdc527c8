"""Slack incoming webhook: a fallback ``text``, Block Kit ``blocks`` and a coloured
attachment with one section per alert."""

from __future__ import annotations

from typing import Any

import httpx

from padit_stream.alerting.config import SlackConfig, secret_from_env
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify.base import HttpMessage, HttpNotifier, user_agent_headers
from padit_stream.schema import Alert, rfc3339

__all__ = ["SlackNotifier", "slack_payload"]

#: Slack's limits: header text 150 characters, section text 3000.
_HEADER_MAX = 150
_SECTION_MAX = 3000

_COLORS = {"critical": "#d00000", "warning": "#f2a900", "info": "#439fe0", "resolved": "#2eb886"}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title(notification: Notification, alerts: list[Alert]) -> str:
    firing = [a for a in alerts if a.status == "firing"]
    status = f"FIRING:{len(firing)}" if firing else "RESOLVED"
    labels = " ".join(f"{k}={v}" for k, v in notification.group_labels.items())
    return f"[{status}] {labels}".strip()


def _alert_section(alert: Alert) -> dict[str, Any]:
    if alert.status == "resolved":
        head = f":white_check_mark: *RESOLVED* {alert.title}"
    else:
        icon = {"critical": ":red_circle:", "warning": ":warning:"}.get(
            alert.severity, ":information_source:"
        )
        head = f"{icon} *{alert.severity.upper()}* {alert.title}"
    lines = [
        head,
        alert.description,
        f"source `{alert.source_id}` · metric `{alert.metric_name}` · score {alert.score:.2f}"
        f" · since {rfc3339(alert.starts_at)}",
    ]
    if alert.suppressed:
        lines.append("_suppressed_")
    if alert.generator_url:
        lines.append(f"<{alert.generator_url}|details>")
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), _SECTION_MAX)},
    }


def slack_payload(
    notification: Notification,
    alerts: list[Alert],
    max_alerts: int = 10,
    channel: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """The JSON body for a Slack incoming webhook."""
    title = _title(notification, alerts)
    firing = [a for a in alerts if a.status == "firing"]
    worst = max(
        (a.severity for a in firing),
        key=lambda s: {"info": 0, "warning": 1, "critical": 2}[s],
        default="resolved",
    )
    shown = alerts[:max_alerts]
    sections = [_alert_section(a) for a in shown]
    if len(alerts) > len(shown):
        sections.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"and {len(alerts) - len(shown)} more alerts"}
                ],
            }
        )
    body: dict[str, Any] = {
        "text": _cut(title, 3000),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(title, _HEADER_MAX)}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _cut(
                            f"{len(firing)} firing, {len(alerts) - len(firing)} resolved"
                            f" · receiver `{notification.receiver}`",
                            _SECTION_MAX,
                        ),
                    }
                ],
            },
        ],
        "attachments": [{"color": _COLORS[worst], "fallback": title, "blocks": sections}],
    }
    if channel:
        body["channel"] = channel
    if username:
        body["username"] = username
    return body


class SlackNotifier(HttpNotifier):
    """POSTs to the Slack incoming-webhook URL held in the variable ``url_env``."""

    kind = "slack"

    def __init__(self, name: str, config: SlackConfig, client: httpx.AsyncClient) -> None:
        super().__init__(name, config.send_resolved, client, config.timeout)
        self.config = config
        self.url = secret_from_env(config.url_env, f"{name}.url_env")
        self.headers = user_agent_headers()

    def render(self, notification: Notification) -> list[Any]:
        alerts = self.alerts_for(notification)
        if not alerts:
            return []
        cfg = self.config
        body = slack_payload(notification, alerts, cfg.max_alerts, cfg.channel, cfg.username)
        return [HttpMessage(self.url, body, self.headers)]
