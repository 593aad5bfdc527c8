"""Rendered notifier payloads, field by field, against the receivers' documented formats."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from padit_stream.alerting.config import (
    EmailConfig,
    LifecycleConfig,
    PagerDutyConfig,
    SlackConfig,
    WebhookConfig,
)
from padit_stream.alerting.lifecycle import AlertEngine
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify import (
    EmailNotifier,
    PagerDutyNotifier,
    SlackNotifier,
    WebhookNotifier,
    parse_retry_after,
)
from padit_stream.alerting.notify.base import HttpMessage
from padit_stream.schema import Alert, Anomaly

ENGINE = AlertEngine(LifecycleConfig(keep_firing_for=0), external_url="http://padit.test:8080")


def incident(source: str, metric: str, score: float) -> tuple[Alert, Alert]:
    a = Anomaly(1_767_225_600.0, source, metric, score, True, "zscore", evidence={"z": 4.2})
    state, (firing,) = ENGINE.on_anomaly(None, a)
    ok = Anomaly(1_767_225_660.0, source, metric, 0.1, False, "zscore")
    _, (resolved,) = ENGINE.on_anomaly(state, ok)
    return firing, resolved


CRIT, CRIT_RESOLVED = incident("ru-1", "rtt_ms", 0.95)
WARN, _ = incident("ru-1", "loss_pct", 0.75)


def notification(*alerts: Alert) -> Notification:
    return Notification(
        id="n-1",
        receiver="team",
        group_key='{}:{source_id="ru-1"}',
        group_labels={"source_id": "ru-1"},
        status="firing" if any(a.status == "firing" for a in alerts) else "resolved",
        alerts=alerts,
        created_at=1_767_225_700.0,
    )


@pytest.fixture
def client() -> httpx.AsyncClient:
    return httpx.AsyncClient()


def only(messages: list[object]) -> HttpMessage:
    (message,) = messages
    assert isinstance(message, HttpMessage)
    return message


def parse_time(text: str) -> float:
    assert text.endswith("Z")
    return datetime.fromisoformat(text[:-1] + "+00:00").timestamp()


def test_webhook_follows_alertmanager_v4(client: httpx.AsyncClient) -> None:
    n = WebhookNotifier("team/webhook[0]", WebhookConfig(url="http://h/x"), client, "http://ext")
    body = only(n.render(notification(CRIT, WARN, CRIT_RESOLVED))).json
    assert set(body) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["receiver"] == "team" and body["groupKey"] == '{}:{source_id="ru-1"}'
    assert body["groupLabels"] == {"source_id": "ru-1"} and body["externalURL"] == "http://ext"
    assert body["truncatedAlerts"] == 0
    assert body["commonLabels"] == {
        "alertname": "PaditAnomaly",
        "detector": "zscore",
        "source_id": "ru-1",
    }
    first = body["alerts"][0]
    assert set(first) == {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    }
    assert first["status"] == "firing" and first["labels"]["severity"] == "critical"
    assert first["fingerprint"] == CRIT.fingerprint
    assert parse_time(first["startsAt"]) == CRIT.starts_at
    assert first["endsAt"] == "0001-01-01T00:00:00Z"
    assert first["annotations"]["summary"] == CRIT.title
    assert first["generatorURL"] == f"http://padit.test:8080/api/v1/alerts/{CRIT.alert_id}"
    last = body["alerts"][2]
    assert last["status"] == "resolved" and parse_time(last["endsAt"]) == CRIT_RESOLVED.ends_at


def test_webhook_truncates_and_respects_send_resolved(client: httpx.AsyncClient) -> None:
    cfg = WebhookConfig(url="http://h/x", max_alerts=1, send_resolved=False)
    n = WebhookNotifier("w", cfg, client)
    body = only(n.render(notification(CRIT, WARN, CRIT_RESOLVED))).json
    assert len(body["alerts"]) == 1 and body["truncatedAlerts"] == 1
    assert n.render(notification(CRIT_RESOLVED)) == []


def test_webhook_bearer_token_from_env(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", "http://h/hook")
    monkeypatch.setenv("HOOK_TOKEN", "tok")
    cfg = WebhookConfig(url_env="HOOK_URL", bearer_token_env="HOOK_TOKEN")
    message = only(WebhookNotifier("w", cfg, client).render(notification(CRIT)))
    assert message.url == "http://h/hook"
    assert message.headers["Authorization"] == "Bearer tok"


def test_slack_incoming_webhook_body(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_URL", "http://slack/x")
    cfg = SlackConfig(url_env="SLACK_URL", channel="#ran", max_alerts=1)
    body = only(SlackNotifier("s", cfg, client).render(notification(CRIT, WARN))).json
    assert body["text"] == "[FIRING:2] source_id=ru-1" and body["channel"] == "#ran"
    header = body["blocks"][0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) <= 150
    (attachment,) = body["attachments"]
    assert attachment["color"] == "#d00000"  # the worst firing severity: critical
    section, more = attachment["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "CRITICAL" in section["text"]["text"] and CRIT.title in section["text"]["text"]
    assert more["type"] == "context" and "1 more" in more["elements"][0]["text"]
    resolved = only(SlackNotifier("s", cfg, client).render(notification(CRIT_RESOLVED))).json
    assert resolved["text"].startswith("[RESOLVED]")
    assert resolved["attachments"][0]["color"] == "#2eb886"


def test_pagerduty_events_v2(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PD_KEY", "R0UT1NGKEY")
    cfg = PagerDutyConfig(routing_key_env="PD_KEY", url="http://pd/v2/enqueue")
    n = PagerDutyNotifier("p", cfg, client, "http://ext")
    trigger, warning, resolve = (m.json for m in n.render(notification(CRIT, WARN, CRIT_RESOLVED)))
    assert trigger["routing_key"] == "R0UT1NGKEY" and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == CRIT.fingerprint
    payload = trigger["payload"]
    assert set(payload) >= {"summary", "source", "severity"}
    assert payload["source"] == "ru-1" and payload["severity"] == "critical"
    assert payload["component"] == "rtt_ms" and payload["class"] == "zscore"
    assert parse_time(payload["timestamp"]) == CRIT.starts_at
    assert 0 < len(payload["summary"]) <= 1024
    assert payload["custom_details"]["evidence"] == {"z": 4.2}
    assert trigger["client"] == "PADIT" and trigger["client_url"].endswith(CRIT.alert_id)
    assert warning["payload"]["severity"] == "warning"
    assert resolve == {
        "routing_key": "R0UT1NGKEY",
        "event_action": "resolve",
        "dedup_key": CRIT.fingerprint,
    }


def test_pagerduty_summary_is_cut_to_1024(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PD_KEY", "k")
    long_alert = Alert.from_dict({**CRIT.to_dict(), "description": "x" * 5000})
    cfg = PagerDutyConfig(routing_key_env="PD_KEY")
    (m,) = PagerDutyNotifier("p", cfg, client).render(notification(long_alert))
    assert len(m.json["payload"]["summary"]) == 1024


def test_email_message(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = EmailConfig.model_validate(
        {"to": ["noc@example.net", "b@example.net"], "from": "padit@x", "smarthost": "h:25"}
    )
    (msg,) = EmailNotifier("e", cfg).render(notification(CRIT, CRIT_RESOLVED))
    assert msg["Subject"] == "[PADIT] [FIRING:1] source_id=ru-1"
    assert msg["To"] == "noc@example.net, b@example.net" and msg["From"] == "padit@x"
    assert msg["Message-ID"].endswith("@padit.alerting>")
    body = msg.get_content()
    assert CRIT.alert_id in body and "[RESOLVED]" in body and "[FIRING]" in body


def test_retry_after_forms() -> None:
    assert parse_retry_after("120", now=0.0) == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon", now=0.0) is None
