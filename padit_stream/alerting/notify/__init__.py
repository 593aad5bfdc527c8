"""Notify, as Alertmanager's ``notify``: the integrations of each receiver (webhook in
Alertmanager's format, Slack, PagerDuty Events v2, email) and the delivery that sends to
them with retries and backoff, counting outcomes."""

from __future__ import annotations

from padit_stream.alerting.notify.base import (
    DeliveryError,
    HttpMessage,
    HttpNotifier,
    Notifier,
    parse_retry_after,
)
from padit_stream.alerting.notify.delivery import Delivery
from padit_stream.alerting.notify.email import EmailNotifier, email_message
from padit_stream.alerting.notify.integrations import build_notifiers
from padit_stream.alerting.notify.pagerduty import PagerDutyNotifier, pagerduty_event
from padit_stream.alerting.notify.slack import SlackNotifier, slack_payload
from padit_stream.alerting.notify.stats import DeliveryStats
from padit_stream.alerting.notify.webhook import WebhookNotifier, alertmanager_payload

__all__ = [
    "Delivery",
    "DeliveryError",
    "DeliveryStats",
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
