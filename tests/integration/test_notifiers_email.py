"""Email notifier against a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS with
login, temporary and permanent refusals, and a server that is down for a while."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from padit_stream.alerting import AlertEngine, AlertingConfig, Delivery, Dispatcher
from padit_stream.alerting.notification import Notification
from padit_stream.schema import Anomaly
from tests.integration.receivers import SmtpReceiver


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def config(smarthost: str, **email: Any) -> AlertingConfig:
    return AlertingConfig.model_validate(
        {
            "lifecycle": {"keep_firing_for": 0},
            "route": {
                "receiver": "noc",
                "group_by": ["source_id"],
                "group_wait": 0,
                "group_interval": 60,
            },
            "receivers": [
                {
                    "name": "noc",
                    "email_configs": [
                        {
                            "to": ["noc@example.net", "lead@example.net"],
                            "from": "padit@example.net",
                            "smarthost": smarthost,
                            "timeout": 10,
                            **email,
                        }
                    ],
                }
            ],
            "delivery": {"initial_backoff": 1, "max_attempts": 2},
        }
    )


def notifications(cfg: AlertingConfig, clock: Clock) -> list[Notification]:
    """A firing notification, then its resolution a minute later."""
    engine, groups = AlertEngine(cfg.lifecycle), Dispatcher(cfg)
    state, alerts = engine.on_anomaly(None, Anomaly(10.0, "du-3", "fh_jitter_us", 0.91, True, "z"))
    for a in alerts:
        groups.on_alert(a, clock.now)
    out = groups.due(clock.now)
    _, alerts = engine.on_anomaly(state, Anomaly(20.0, "du-3", "fh_jitter_us", 0.1, False, "z"))
    for a in alerts:
        groups.on_alert(a, clock.now + 60)
    return out + groups.due(clock.now + 60)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpReceiver]:
    r = await SmtpReceiver().start()
    yield r
    await r.stop()


async def test_plain_smtp_delivers_firing_and_resolved(smtp: SmtpReceiver) -> None:
    clock = Clock()
    cfg = config(smtp.smarthost)
    d = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
    try:
        for n in notifications(cfg, clock):
            await d.deliver(n)
        assert len(smtp.messages) == 2
        (sender, rcpts, fire), (_, _, ok) = smtp.messages
        assert sender == "padit@example.net"
        assert rcpts == ["noc@example.net", "lead@example.net"]
        assert fire["Subject"] == "[PADIT] [FIRING:1] source_id=du-3"
        assert ok["Subject"] == "[PADIT] [RESOLVED] source_id=du-3"
        assert fire["Message-ID"] != ok["Message-ID"]
        body = fire.get_content()
        assert "fh_jitter_us anomalous on du-3" in body and "critical" in body
        assert smtp.tls_used == [False, False]
        assert d.stats.to_dict(d.outbox)["sent"] == 2
    finally:
        await d.aclose()


async def test_starttls_and_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    smtp = await SmtpReceiver(server_ctx, credentials=("padit", "hunter2")).start()
    monkeypatch.setenv("PADIT_TEST_SMTP_PASSWORD", "hunter2")
    clock = Clock()
    cfg = config(
        smtp.smarthost,
        starttls=True,
        ca_file=str(ca_file),
        auth_username="padit",
        password_env="PADIT_TEST_SMTP_PASSWORD",
    )
    d = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
    try:
        await d.deliver(notifications(cfg, clock)[0])
        assert len(smtp.messages) == 1 and smtp.tls_used == [True]
        # A wrong password is a permanent refusal (535): failed, not retried.
        monkeypatch.setenv("PADIT_TEST_SMTP_PASSWORD", "wrong")
        d2 = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
        await d2.deliver(notifications(cfg, clock)[0])
        stats = d2.stats.to_dict(d2.outbox)
        assert (stats["failed"], stats["retried"], stats["sent"]) == (1, 0, 0)
        assert "535" in stats["integrations"]["noc/email[0]"]["last_error"]
        assert len(smtp.messages) == 1
        await d2.aclose()
    finally:
        await d.aclose()
        await smtp.stop()


async def test_temporary_refusal_is_retried_permanent_is_not(smtp: SmtpReceiver) -> None:
    clock = Clock()
    cfg = config(smtp.smarthost)
    d = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
    try:
        fire, ok = notifications(cfg, clock)
        smtp.script.append("451 4.3.0 try again later")
        await d.deliver(fire)
        assert len(smtp.messages) == 1 and smtp.refused == 1 and clock.slept == [1.0]
        smtp.script.append("550 5.7.1 relaying denied")
        await d.deliver(ok)
        assert len(smtp.messages) == 1 and smtp.refused == 2
        stats = d.stats.to_dict(d.outbox)
        assert (stats["sent"], stats["retried"], stats["failed"]) == (1, 1, 1)
    finally:
        await d.aclose()


async def test_server_down_then_back_gets_each_message_once(smtp: SmtpReceiver) -> None:
    clock = Clock()
    cfg = config(smtp.smarthost)
    d = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
    try:
        await smtp.go_down()
        fire, ok = notifications(cfg, clock)
        await d.deliver(fire)
        await d.deliver(ok)
        assert d.stats.to_dict(d.outbox)["pending"] == 2
        clock.now += 30
        await d.flush()
        await smtp.come_back()
        for _ in range(5):
            clock.now += 60
            await d.flush()
        subjects = [m["Subject"] for _, _, m in smtp.messages]
        assert subjects == [
            "[PADIT] [FIRING:1] source_id=du-3",
            "[PADIT] [RESOLVED] source_id=du-3",
        ]
        stats = d.stats.to_dict(d.outbox)
        assert (stats["sent"], stats["pending"], stats["failed"]) == (2, 0, 0)
    finally:
        await d.aclose()
