"""The integrations of each receiver, built from the config: webhook (Alertmanager
format), Slack, PagerDuty Events v2 and email."""

from __future__ import annotations

import httpx

from padit_stream.alerting.config import AlertingConfig
from padit_stream.alerting.notify.base import Notifier
from padit_stream.alerting.notify.email import EmailNotifier
from padit_stream.alerting.notify.pagerduty import PagerDutyNotifier
from padit_stream.alerting.notify.slack import SlackNotifier
from padit_stream.alerting.notify.webhook import WebhookNotifier

__all__ = ["build_notifiers"]


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
