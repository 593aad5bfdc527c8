"""Slack incoming webhook and PagerDuty Events API v2 against real HTTP receivers on
loopback that answer as the services document (Slack: 200 ``ok``; PagerDuty: 202 JSON)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from padit_stream.alerting import AlertEngine, AlertingConfig, Delivery, Dispatcher
from padit_stream.schema import Alert, Anomaly
from tests.integration.receivers import HttpReceiver, Reply


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pagerduty_reply(body: bytes) -> Reply:
    event = json.loads(body)
    return Reply(
        202,
        json.dumps(
            {"status": "success", "message": "Event processed", "dedup_key": event["dedup_key"]}
        ),
        content_type="application/json",
    )


@pytest.fixture
async def slack() -> AsyncIterator[HttpReceiver]:
    r = await HttpReceiver(Reply(200, "ok")).start()
    yield r
    await r.stop()


@pytest.fixture
async def pagerduty() -> AsyncIterator[HttpReceiver]:
    r = await HttpReceiver(pagerduty_reply).start()
    yield r
    await r.stop()


@pytest.fixture
def cfg(
    monkeypatch: pytest.MonkeyPatch, slack: HttpReceiver, pagerduty: HttpReceiver
) -> AlertingConfig:
    monkeypatch.setenv("PADIT_TEST_SLACK_URL", slack.url("/services/T000/B000/XXXX"))
    monkeypatch.setenv("PADIT_TEST_PD_KEY", "R0UTINGKEY0123456789012345678901")
    return AlertingConfig.model_validate(
        {
            "lifecycle": {"keep_firing_for": 0},
            "route": {
                "receiver": "oncall",
                "group_by": ["source_id"],
                "group_wait": 0,
                "group_interval": "1m",
            },
            "receivers": [
                {
                    "name": "oncall",
                    "slack_configs": [{"url_env": "PADIT_TEST_SLACK_URL", "channel": "#ran"}],
                    "pagerduty_configs": [
                        {
                            "routing_key_env": "PADIT_TEST_PD_KEY",
                            "url": pagerduty.url("/v2/enqueue"),
                        }
                    ],
                }
            ],
            "delivery": {"initial_backoff": 1, "max_attempts": 2},
        }
    )


async def run(
    cfg: AlertingConfig, clock: Clock, events: list[tuple[str, str, float, float]]
) -> Delivery:
    engine, groups = AlertEngine(cfg.lifecycle), Dispatcher(cfg)
    delivery = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
    states: dict[str, object] = {}
    for source, metric, score, ts in events:
        anomaly = Anomaly(ts, source, metric, score, score >= 0.5, "cusum")
        state, alerts = engine.on_anomaly(states.get(anomaly.fingerprint), anomaly)  # type: ignore[arg-type]
        states[anomaly.fingerprint] = state
        for alert in alerts:
            groups.on_alert(alert, clock.now)
        clock.now += 60.0
        for n in groups.due(clock.now):
            await delivery.deliver(n)
        await delivery.flush()
    return delivery


async def test_slack_and_pagerduty_get_trigger_then_resolve(
    cfg: AlertingConfig, slack: HttpReceiver, pagerduty: HttpReceiver
) -> None:
    clock = Clock()
    d = await run(
        cfg, clock, [("ru-7", "ecpri_delay_us", 0.93, 10.0), ("ru-7", "ecpri_delay_us", 0.1, 20.0)]
    )
    try:
        assert [r.path for r in slack.requests] == ["/services/T000/B000/XXXX"] * 2
        fire, ok = (r.json for r in slack.requests)
        assert fire["text"] == "[FIRING:1] source_id=ru-7" and fire["channel"] == "#ran"
        assert fire["blocks"][0]["type"] == "header"
        assert fire["attachments"][0]["color"] == "#d00000"
        assert "ecpri_delay_us" in fire["attachments"][0]["blocks"][0]["text"]["text"]
        assert ok["text"] == "[RESOLVED] source_id=ru-7"

        assert [r.path for r in pagerduty.requests] == ["/v2/enqueue"] * 2
        trigger, resolve = (r.json for r in pagerduty.requests)
        assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
        assert (
            trigger["routing_key"] == resolve["routing_key"] == "R0UTINGKEY0123456789012345678901"
        )
        fp = Anomaly(0, "ru-7", "ecpri_delay_us", 0, False, "cusum").fingerprint
        assert trigger["dedup_key"] == resolve["dedup_key"] == fp
        assert trigger["payload"]["severity"] == "critical"
        assert trigger["payload"]["source"] == "ru-7"
        assert trigger["payload"]["summary"].startswith(
            "[CRITICAL] ecpri_delay_us anomalous on ru-7"
        )
        assert "payload" not in resolve
        stats = d.stats.to_dict(d.outbox)
        assert stats["integrations"]["oncall/slack[0]"]["sent"] == 2
        assert stats["integrations"]["oncall/pagerduty[0]"]["sent"] == 2
    finally:
        await d.aclose()


async def test_pagerduty_resumes_after_the_events_it_already_sent(
    cfg: AlertingConfig, pagerduty: HttpReceiver
) -> None:
    clock = Clock()
    # Three alerts of one source in one group: three events in one notification; the
    # second gets a 500 twice (more than max_attempts), then the service recovers.
    accepted = Reply(202, '{"status": "success"}', content_type="application/json")
    pagerduty.script.extend([accepted, Reply(500, "oops"), Reply(500, "oops")])
    engine, groups = AlertEngine(cfg.lifecycle), Dispatcher(cfg)
    d = Delivery.from_config(cfg, clock=clock, sleep=clock.sleep)
    try:
        for metric in ("a_ms", "b_ms", "c_ms"):
            _, alerts = engine.on_anomaly(None, Anomaly(10.0, "ru-1", metric, 0.8, True, "z"))
            for alert in alerts:
                groups.on_alert(alert, clock.now)
        for n in groups.due(clock.now):
            await d.deliver(n)
        assert len(pagerduty.accepted) == 1 and d.stats.to_dict(d.outbox)["pending"] >= 1
        clock.now += 600.0
        await d.flush()
        dedup = [r.json["dedup_key"] for r in pagerduty.accepted]
        assert len(dedup) == 3 and len(set(dedup)) == 3
        assert [r.status for r in pagerduty.requests] == [202, 500, 500, 202, 202]
    finally:
        await d.aclose()


async def test_slack_rejects_a_bad_payload_without_retry(
    cfg: AlertingConfig, slack: HttpReceiver
) -> None:
    clock = Clock()
    slack.script.append(Reply(400, "invalid_payload"))
    d = await run(cfg, clock, [("ru-1", "rtt_ms", 0.8, 10.0)])
    try:
        assert [r.status for r in slack.requests] == [400]
        per = d.stats.to_dict(d.outbox)["integrations"]["oncall/slack[0]"]
        assert per["failed"] == 1 and "invalid_payload" in per["last_error"]
    finally:
        await d.aclose()


def test_alert_record_is_what_the_notifiers_render() -> None:
    # The notifiers only read Alert fields; a record decoded from the topic renders alike.
    a = AlertEngine().on_anomaly(None, Anomaly(1.0, "s", "m", 0.9, True, "d"))[1][0]
    assert Alert.from_dict(json.loads(json.dumps(a.to_dict()))) == a
