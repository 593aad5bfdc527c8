"""Notifiers: webhook (Alertmanager format), Slack, PagerDuty Events v2 and email."""

from __future__ import annotations

import httpx

from padit_stream.alerting.config import AlertingConfig
from padit_stream.alerting.notifiers.base import (
    DeliveryError,
    HttpMessage,
    HttpNotifier,
    Notifier,
    parse_retry_after,
)
from padit_stream.alerting.notifiers.email import EmailNotifier, email_message
from padit_stream.alerting.notifiers.pagerduty import PagerDutyNotifier, pagerduty_event
from padit_stream.alerting.notifiers.slack import SlackNotifier, slack_payload
from padit_stream.alerting.notifiers.webhook import WebhookNotifier, alertmanager_payload

__all__ = [
    "DeliveryError",
    "EmailNotifier",
    "HttpMessage",
    "HttpNotifier",
    "Notifier",
    "PagerDutyNotifier",
    "SlackNotifier",
    "WebhookNotifier",
    "alertmanager_payload",
    "build_notifiers",
    "email_message",
    "pagerduty_event",
    "parse_retry_after",
    "slack_payload",
]


def build_notifiers(config: AlertingConfig, client: httpx.AsyncClient) -> dict[str, list[Notifier]]:
    """The notifiers of every receiver, by receiver name; reads the secrets' variables.

    Integrations are named ``receiver/kind[i]`` (e.g. ``oncall/slack[0]``): the outbox and
    the delivery stats use these names.

    Raises:
        ConfigError: a variable a receiver names is unset or empty.
    """
    out: dict[str, list[Notifier]] = {}
    ext = config.external_url
    for rcv in config.receivers:
        items: list[Notifier] = []
        for i, w in enumerate(rcv.webhook_configs):
            items.append(WebhookNotifier(f"{rcv.name}/webhook[{i}]", w, client, ext))
        for i, s in enumerate(rcv.slack_configs):
            items.append(SlackNotifier(f"{rcv.name}/slack[{i}]", s, client))
        for i, p in enumerate(rcv.pagerduty_configs):
            items.append(PagerDutyNotifier(f"{rcv.name}/pagerduty[{i}]", p, client, ext))
        for i, e in enumerate(rcv.email_configs):
            items.append(EmailNotifier(f"{rcv.name}/email[{i}]", e))
        out[rcv.name] = items
    return out
