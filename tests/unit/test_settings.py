"""Settings: file, environment overrides, and errors that say where and what."""

from __future__ import annotations

from pathlib import Path

import pytest

from padit_stream.errors import ConfigError
from padit_stream.settings import load_settings


def test_repository_config_loads() -> None:
    s = load_settings(env={})
    assert s.topics.name("metrics") == "padit.metrics.v1"
    assert s.window.span_sec == 300 and s.window.max_samples == 1000
    assert s.window.emit_every_sec == 60
    lifecycle = s.alerting.lifecycle
    assert lifecycle.fire_threshold == 0.7 and lifecycle.severity.critical == 0.9


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "p.yaml"
    cfg.write_text("app: {broker: 'kafka://10.0.0.1:9092', web_port: 7000}\n")
    s = load_settings(
        cfg,
        env={
            "PADIT_BROKER": "127.0.0.1:9999",
            "PADIT_WEB_PORT": "7100",
            "PADIT_EMIT_EVERY_SEC": "0",
            "PADIT_TOPIC_PREFIX": "x",
        },
    )
    assert s.app.broker == "kafka://127.0.0.1:9999"
    assert s.app.web_port == 7100
    assert s.window.emit_every_sec == 0
    assert s.topics.name("alerts") == "x.alerts.v1"


def test_bad_value_names_file_key_and_expectation(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("window: {span_sec: -5}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value)
    assert str(cfg) in text and "window.span_sec" in text and "greater than 0" in text


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "typo.yaml"
    cfg.write_text("window: {spam_sec: 5}\n")
    with pytest.raises(ConfigError, match=r"typo\.yaml: key 'window\.spam_sec': unknown key"):
        load_settings(cfg, env={})


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment variable PADIT_WEB_PORT.*app\.web_port"):
        load_settings(tmp_path / "missing.yaml", env={"PADIT_WEB_PORT": "http"})


def test_bad_broker_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"app\.broker.*kafka://HOST:PORT"):
        load_settings(tmp_path / "none.yaml", env={"PADIT_BROKER": "localhost"})


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "broken.yaml"
    cfg.write_text("app: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_settings(cfg, env={})


def test_monitoring_settings_from_file_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        "metrics: {max_series: 50}\n"
        "alertmanager: {urls: ['http://am:9093/'], builtin_notifications: false}\n"
    )
    s = load_settings(cfg, env={"PADIT_SERIES_SCORES": "true"})
    assert s.metrics.series_scores and s.metrics.max_series == 50
    assert s.alertmanager.urls == ["http://am:9093"] and not s.alertmanager.builtin_notifications
    assert load_settings(env={}).alertmanager.urls == []


def test_alertmanager_url_error_names_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "p.yaml"
    cfg.write_text("alertmanager: {urls: ['am:9093']}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    text = str(err.value)
    assert str(cfg) in text and "alertmanager.urls" in text and "http" in text
