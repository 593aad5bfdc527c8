"""The alerting section of the YAML config: defaults, the documented example, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from padit_stream.alerting.config import (
    AlertingConfig,
    load_alerting_config,
    parse_duration,
    secret_from_env,
)
from padit_stream.errors import ConfigError

EXAMPLE = """
alerting:
  external_url: http://padit.example:8080
  lifecycle:
    fire_threshold: 0.7        # hot evaluation: score >= 0.7 and is_anomaly
    clear_threshold: 0.5       # clear evaluation: score < 0.5 (hysteresis band between)
    for_evaluations: 1         # fire on the first hot evaluation
    for_duration: 0s
    keep_firing_for: 5m        # clear this long (event time) before resolving
    stale_after: 15m           # no evaluation this long: resolve
    severity: {critical: 0.9, warning: 0.7}
  route:
    receiver: team-webhook
    group_by: [alertname, source_id]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 4h
    routes:
      - matchers: ['severity="critical"']
        receiver: oncall-pager
        group_wait: 10s
        continue: true
      - matchers: ['severity=~"warning|critical"']
        receiver: team-slack
  receivers:
    - name: team-webhook
      webhook_configs:
        - url_env: PADIT_WEBHOOK_URL
          max_alerts: 50
    - name: team-slack
      slack_configs:
        - url_env: SLACK_WEBHOOK_URL
          channel: "#ran-alerts"
      email_configs:
        - to: [noc@example.net]
          from: padit@example.net
          smarthost: smtp.example.net:587
          starttls: true
          auth_username: padit
          password_env: SMTP_PASSWORD
    - name: oncall-pager
      pagerduty_configs:
        - routing_key_env: PAGERDUTY_ROUTING_KEY
  inhibit_rules:
    - source_matchers: ['severity="critical"']
      target_matchers: ['severity="warning"']
      equal: [source_id]
    - source_matchers: ['metric_name="up"']
      target_matchers: ['metric_name=~".*latency.*"']
      equal: [source_id]
  delivery:
    max_attempts: 3
    initial_backoff: 500ms
    max_backoff: 1m
    give_up_after: 24h
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "padit.yaml"
    path.write_text(text)
    return path


def test_documented_example_loads(tmp_path: Path) -> None:
    cfg = load_alerting_config(write(tmp_path, EXAMPLE))
    assert cfg.lifecycle.keep_firing_for == 300.0 and cfg.lifecycle.stale_after == 900.0
    assert cfg.route.repeat_interval == 4 * 3600.0
    assert [r.receiver for r in cfg.route.routes] == ["oncall-pager", "team-slack"]
    assert cfg.route.routes[0].continue_ is True
    assert cfg.receiver("team-slack").email_configs[0].from_ == "padit@example.net"
    assert cfg.inhibit_rules[1].target_matchers[0].op == "=~"
    assert cfg.delivery.initial_backoff == 0.5


def test_defaults_without_a_section(tmp_path: Path) -> None:
    cfg = load_alerting_config(write(tmp_path, "other: 1\n"))
    assert cfg == AlertingConfig()
    assert cfg.lifecycle.for_evaluations == 1 and cfg.lifecycle.fire_threshold == 0.7
    # Alertmanager's default retention of silences and the notification log.
    assert cfg.data_retention == 120 * 3600.0
    assert (
        load_alerting_config(write(tmp_path, "alerting: {data_retention: 2d}\n")).data_retention
        == 172800.0
    )


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (
            "alerting:\n  lifecycle:\n    keep_firing_for: 5 minutes\n",
            "alerting.lifecycle.keep_firing_for",
            "'30s'",
        ),
        (
            "alerting:\n  lifecycle:\n    clear_threshold: 0.9\n",
            "alerting.lifecycle",
            "must not exceed fire_threshold",
        ),
        (
            "alerting:\n  lifecycle:\n    fire_treshold: 0.9\n",
            "alerting.lifecycle.fire_treshold",
            "unknown key",
        ),
        ("alerting:\n  route: {receiver: nobody}\n", "alerting", "not one of receivers"),
        ("alerting:\n  data_retention: forever\n", "alerting.data_retention", "'1h30m'"),
        (
            "alerting:\n  receivers: [{name: a, webhook_configs: [{}]}]\n  route: {receiver: a}\n",
            "alerting.receivers[0].webhook_configs[0]",
            "exactly one of url and url_env",
        ),
        (
            "alerting:\n  inhibit_rules: [{source_matchers: ['a=~\"(\"'], "
            "target_matchers: ['b=c']}]\n",
            "alerting.inhibit_rules[0].source_matchers[0]",
            "regular expression",
        ),
        (
            "alerting:\n  receivers: [{name: a, email_configs: [{to: [x@y], from: a@b, "
            "smarthost: nohost}]}]\n  route: {receiver: a}\n",
            "alerting.receivers[0].email_configs[0].smarthost",
            "host:port",
        ),
    ],
)
def test_errors_name_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_alerting_config(path)
    message = str(info.value)
    assert str(path) in message and f"key '{key}" in message and expected in message


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_alerting_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_alerting_config(write(tmp_path, "alerting: [\n"))


@pytest.mark.parametrize(
    ("raw", "seconds"), [("90s", 90.0), ("1h30m", 5400.0), (12, 12.0), ("1.5m", 90.0)]
)
def test_durations(raw: object, seconds: float) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["", "5", "m5", "5 m", "-3s", True, None])
def test_bad_durations(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(raw)


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PADIT_TEST_SECRET", "s3cret")
    assert secret_from_env("PADIT_TEST_SECRET", "receivers[0].url_env") == "s3cret"
    monkeypatch.delenv("PADIT_TEST_SECRET")
    with pytest.raises(ConfigError, match=r"PADIT_TEST_SECRET.*receivers\[0\]\.url_env"):
        secret_from_env("PADIT_TEST_SECRET", "receivers[0].url_env")


def test_for_alias_takes_a_count_or_a_duration() -> None:
    from padit_stream.alerting.config import LifecycleConfig

    assert LifecycleConfig.model_validate({"for": 3}).for_evaluations == 3
    assert LifecycleConfig.model_validate({"for": "2m"}).for_duration == 120.0
    with pytest.raises(ValueError, match="not both"):
        LifecycleConfig.model_validate({"for": 3, "for_evaluations": 2})
