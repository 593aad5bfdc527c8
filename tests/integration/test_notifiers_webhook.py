"""Webhook notifier against a real HTTP receiver on loopback: the whole path from anomaly
records to Alertmanager-format JSON, retries, and a receiver that is down for a while."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from padit_stream.alerting import AlertEngine, AlertingConfig, AlertState, Delivery, Dispatcher
from padit_stream.schema import Anomaly
from tests.integration.receivers import HttpReceiver, Reply


class Clock:
    """Wall time for the delivery; sleeping advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
async def receiver() -> AsyncIterator[HttpReceiver]:
    r = await HttpReceiver().start()
    yield r
    await r.stop()


def config(**delivery: Any) -> AlertingConfig:
    return AlertingConfig.model_validate(
        {
            "external_url": "http://padit.test:8080",
            "lifecycle": {"keep_firing_for": "30s"},
            "route": {
                "receiver": "hook",
                "group_by": ["source_id"],
                "group_wait": "10s",
                "group_interval": "1m",
            },
            "receivers": [
                {
                    "name": "hook",
                    "webhook_configs": [
                        {"url_env": "PADIT_TEST_HOOK_URL", "bearer_token_env": "PADIT_TEST_TOKEN"}
                    ],
                }
            ],
            "delivery": {"initial_backoff": 1, "max_attempts": 3, **delivery},
        }
    )


class Pipeline:
    """Engine → dispatcher (groups) → delivery, as the stream job wires them."""

    def __init__(self, cfg: AlertingConfig, clock: Clock) -> None:
        self.engine = AlertEngine(cfg.lifecycle, cfg.external_url)
        self.groups = Dispatcher(cfg)
        self.delivery = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
        self.states: dict[str, AlertState] = {}
        self.clock = clock

    def observe(self, source: str, metric: str, score: float, ts: float) -> None:
        anomaly = Anomaly(ts, source, metric, score, score >= 0.5, "zscore", evidence={"z": 5.0})
        state, alerts = self.engine.on_anomaly(self.states.get(anomaly.fingerprint), anomaly)
        self.states[anomaly.fingerprint] = state
        for alert in alerts:
            self.groups.on_alert(alert, self.clock.now)

    async def tick(self, seconds: float) -> None:
        self.clock.now += seconds
        for notification in self.groups.due(self.clock.now):
            await self.delivery.deliver(notification)
        await self.delivery.flush()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, receiver: HttpReceiver) -> None:
    monkeypatch.setenv("PADIT_TEST_HOOK_URL", receiver.url("/alertmanager"))
    monkeypatch.setenv("PADIT_TEST_TOKEN", "t0ken")


def iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.mark.usefixtures("env")
async def test_firing_and_resolved_reach_the_receiver(receiver: HttpReceiver) -> None:
    clock = Clock()
    p = Pipeline(config(), clock)
    try:
        p.observe("ru-1", "rtt_ms", 0.95, ts=100.0)
        p.observe("ru-1", "loss_pct", 0.75, ts=100.0)
        await p.tick(5)
        assert receiver.requests == []  # group_wait
        await p.tick(5)
        (first,) = receiver.requests
        assert first.method == "POST" and first.path == "/alertmanager"
        assert first.headers["Authorization"] == "Bearer t0ken"
        assert first.headers["Content-Type"] == "application/json"
        body = first.json
        assert body["version"] == "4" and body["status"] == "firing"
        assert body["receiver"] == "hook" and body["groupLabels"] == {"source_id": "ru-1"}
        assert body["externalURL"] == "http://padit.test:8080"
        assert body["commonLabels"]["source_id"] == "ru-1"
        by_metric = {a["labels"]["metric_name"]: a for a in body["alerts"]}
        assert by_metric["rtt_ms"]["labels"]["severity"] == "critical"
        assert by_metric["loss_pct"]["labels"]["severity"] == "warning"
        assert iso(by_metric["rtt_ms"]["startsAt"]) == 100.0
        assert by_metric["rtt_ms"]["endsAt"] == "0001-01-01T00:00:00Z"
        assert by_metric["rtt_ms"]["generatorURL"].startswith(
            "http://padit.test:8080/api/v1/alerts/"
        )
        # rtt_ms clears for 30 s of event time: resolved, notified at the next interval.
        p.observe("ru-1", "rtt_ms", 0.1, ts=110.0)
        p.observe("ru-1", "rtt_ms", 0.1, ts=140.0)
        await p.tick(60)
        second = receiver.requests[1].json
        statuses = {a["labels"]["metric_name"]: a["status"] for a in second["alerts"]}
        assert statuses == {"rtt_ms": "resolved", "loss_pct": "firing"}
        resolved = next(a for a in second["alerts"] if a["status"] == "resolved")
        assert iso(resolved["endsAt"]) == 140.0
        assert resolved["fingerprint"] == by_metric["rtt_ms"]["fingerprint"]
        assert len(receiver.requests) == 2
        stats = p.delivery.stats.to_dict(p.delivery.outbox)
        assert (stats["sent"], stats["retried"], stats["failed"], stats["pending"]) == (2, 0, 0, 0)
    finally:
        await p.delivery.aclose()


@pytest.mark.usefixtures("env")
async def test_receiver_down_then_back_gets_each_state_change_once(
    receiver: HttpReceiver,
) -> None:
    clock = Clock()
    p = Pipeline(config(max_attempts=2), clock)
    try:
        await receiver.go_down()
        p.observe("ru-1", "rtt_ms", 0.95, ts=100.0)
        await p.tick(10)  # firing: connection refused, kept in the outbox
        p.observe("ru-1", "rtt_ms", 0.1, ts=110.0)
        p.observe("ru-1", "rtt_ms", 0.1, ts=140.0)
        await p.tick(60)  # resolved: queued behind the firing one
        p.observe("ru-1", "rtt_ms", 0.97, ts=200.0)
        await p.tick(60)  # a new incident: a new group, notified after group_wait
        await p.tick(30)
        stats = p.delivery.stats.to_dict(p.delivery.outbox)
        assert stats["pending"] == 3 and stats["sent"] == 0 and stats["retried"] >= 1
        for _ in range(2):
            await p.tick(30)
        await receiver.come_back()
        for _ in range(10):
            await p.tick(30)
        got = [(b["status"], b["alerts"][0]["status"]) for b in (r.json for r in receiver.requests)]
        assert got == [("firing", "firing"), ("resolved", "resolved"), ("firing", "firing")]
        starts = [r.json["alerts"][0]["startsAt"] for r in receiver.requests]
        assert starts[0] == starts[1] != starts[2]
        stats = p.delivery.stats.to_dict(p.delivery.outbox)
        assert (stats["sent"], stats["failed"], stats["pending"]) == (3, 0, 0)
    finally:
        await p.delivery.aclose()


@pytest.mark.usefixtures("env")
async def test_5xx_is_retried_with_backoff_and_accepted_once(receiver: HttpReceiver) -> None:
    clock = Clock()
    p = Pipeline(config(max_attempts=3), clock)
    try:
        receiver.script.extend([Reply(503, "busy"), Reply(502, "bad gateway")])
        p.observe("ru-1", "rtt_ms", 0.95, ts=100.0)
        await p.tick(10)
        assert [r.status for r in receiver.requests] == [503, 502, 200]
        assert len(receiver.accepted) == 1
        assert clock.slept == [1.0, 2.0]
        stats = p.delivery.stats.to_dict()
        assert (stats["sent"], stats["retried"]) == (1, 2)
    finally:
        await p.delivery.aclose()


@pytest.mark.usefixtures("env")
async def test_429_retry_after_is_honoured(receiver: HttpReceiver) -> None:
    clock = Clock()
    p = Pipeline(config(max_attempts=3, initial_backoff=1, max_retry_after=600), clock)
    try:
        receiver.script.append(Reply(429, "slow down", headers={"Retry-After": "90"}))
        p.observe("ru-1", "rtt_ms", 0.95, ts=100.0)
        await p.tick(10)
        # 90 s is too long to wait inline: scheduled, not slept.
        assert clock.slept == [] and len(receiver.accepted) == 0
        assert p.delivery.next_attempt() == clock.now + 90.0
        await p.tick(89)
        assert len(receiver.accepted) == 0
        await p.tick(1)
        assert len(receiver.accepted) == 1 and len(receiver.requests) == 2
    finally:
        await p.delivery.aclose()


@pytest.mark.usefixtures("env")
async def test_4xx_is_not_retried(receiver: HttpReceiver) -> None:
    clock = Clock()
    p = Pipeline(config(), clock)
    try:
        receiver.script.append(Reply(400, "bad request"))
        p.observe("ru-1", "rtt_ms", 0.95, ts=100.0)
        await p.tick(10)
        await p.tick(600)
        assert [r.status for r in receiver.requests] == [400]
        stats = p.delivery.stats.to_dict(p.delivery.outbox)
        assert (stats["sent"], stats["failed"], stats["pending"]) == (0, 1, 0)
        assert "HTTP 400" in stats["integrations"]["hook/webhook[0]"]["last_error"]
    finally:
        await p.delivery.aclose()
