"""Configuration of the alert stage: lifecycle, routes, receivers, inhibition, delivery.

Read from the ``alerting`` section of the YAML config with :func:`load_alerting_config`.
Durations are seconds or Alertmanager-style text (``30s``, ``5m``, ``1h30m``). Secrets
(webhook URLs, routing keys, passwords) are never in YAML: a receiver names the
environment variable that holds them (``url_env``, ``routing_key_env``, ``password_env``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from padit_stream.alerting.matchers import Matcher, parse_matcher
from padit_stream.configfile import config_error, read_yaml
from padit_stream.errors import ConfigError

__all__ = [
    "AlertingConfig",
    "DeliveryConfig",
    "EmailConfig",
    "InhibitRuleConfig",
    "LifecycleConfig",
    "PagerDutyConfig",
    "ReceiverConfig",
    "RouteConfig",
    "SeverityThresholds",
    "SlackConfig",
    "WebhookConfig",
    "load_alerting_config",
    "parse_duration",
    "secret_from_env",
]

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(raw: Any) -> float:
    """Seconds from a number or Alertmanager-style text such as ``"1h30m"``.

    Example:
        >>> parse_duration("1h30m"), parse_duration(45), parse_duration("250ms")
        (5400.0, 45.0, 0.25)
    """
    if isinstance(raw, bool):
        raise ValueError("a duration is a number of seconds or text like '5m', got a bool")
    if isinstance(raw, int | float):
        seconds = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        pos, seconds = 0, 0.0
        for part in _DURATION_RE.finditer(text):
            if part.start() != pos:
                break
            seconds += float(part[1]) * _UNIT_SECONDS[part[2]]
            pos = part.end()
        if not text or pos != len(text):
            raise ValueError(f"a duration is text like '30s', '5m' or '1h30m', got {raw!r}")
    else:
        raise ValueError(f"a duration is a number or text like '5m', got {type(raw).__name__}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {raw!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
MatcherField = Annotated[Matcher, BeforeValidator(parse_matcher)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SeverityThresholds(_Strict):
    """Lowest score of each severity; below ``warning`` an alert is ``info``."""

    critical: float = Field(0.9, ge=0.0, le=1.0)
    warning: float = Field(0.7, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> SeverityThresholds:
        if self.warning > self.critical:
            raise ValueError("severity.warning must not exceed severity.critical")
        return self

    def of(self, score: float) -> Literal["info", "warning", "critical"]:
        """Severity of one score."""
        if score >= self.critical:
            return "critical"
        if score >= self.warning:
            return "warning"
        return "info"


class LifecycleConfig(_Strict):
    """When an anomalous series becomes a firing alert and when it resolves.

    An evaluation is *hot* when its score is at least ``fire_threshold`` (and, if
    ``require_is_anomaly``, the detector flagged it), *clear* when its score is below
    ``clear_threshold`` or the detector did not flag it; in between it changes nothing
    (hysteresis). A series fires after ``for_evaluations`` hot evaluations spanning at least
    ``for_duration`` without a clear one (``for: 3`` sets the first, ``for: 2m`` the
    second), and resolves after being clear for
    ``keep_firing_for`` of event time, or after ``stale_after`` without any evaluation.
    """

    fire_threshold: float = Field(0.7, ge=0.0, le=1.0)
    clear_threshold: float = Field(0.5, ge=0.0, le=1.0)
    require_is_anomaly: bool = True
    for_evaluations: int = Field(1, ge=1)
    for_duration: Duration = 0.0
    keep_firing_for: Duration = 300.0
    stale_after: Duration = 900.0
    severity: SeverityThresholds = SeverityThresholds()
    #: Keep the worst severity of an incident instead of following the score down.
    escalate_only: bool = True
    alertname: str = "PaditAnomaly"

    @model_validator(mode="before")
    @classmethod
    def _for_alias(cls, data: Any) -> Any:
        # Prometheus-style `for`: a count of evaluations (an integer) or a duration (text).
        if isinstance(data, dict) and "for" in data:
            data = dict(data)
            value = data.pop("for")
            key = "for_evaluations" if isinstance(value, int) else "for_duration"
            if key in data:
                raise ValueError(f"set `for` or `{key}`, not both")
            data[key] = value
        return data

    @model_validator(mode="after")
    def _hysteresis(self) -> LifecycleConfig:
        if self.clear_threshold > self.fire_threshold:
            raise ValueError("clear_threshold must not exceed fire_threshold")
        return self


class RouteConfig(_Strict):
    """A node of the routing tree; unset fields are inherited from the parent."""

    receiver: str | None = None
    matchers: list[MatcherField] = []
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(False, alias="continue")
    routes: list[RouteConfig] = []


class InhibitRuleConfig(_Strict):
    """Mute alerts matching ``target_matchers`` while an alert matching
    ``source_matchers`` fires with the same values of the ``equal`` labels."""

    source_matchers: list[MatcherField] = Field(min_length=1)
    target_matchers: list[MatcherField] = Field(min_length=1)
    equal: list[str] = []


class _HttpBase(_Strict):
    send_resolved: bool = True
    timeout: Duration = 10.0


class WebhookConfig(_HttpBase):
    """Alertmanager-format JSON webhook; ``url`` for a non-secret URL, else ``url_env``."""

    url: str | None = None
    url_env: str | None = None
    bearer_token_env: str | None = None
    max_alerts: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("set exactly one of url and url_env")
        return self


class SlackConfig(_HttpBase):
    """Slack incoming webhook; its URL is a secret, so only ``url_env``."""

    url_env: str
    channel: str | None = None
    username: str | None = None
    max_alerts: int = Field(10, ge=1)


class PagerDutyConfig(_HttpBase):
    """PagerDuty Events API v2: one event per alert, ``dedup_key`` = fingerprint."""

    routing_key_env: str
    url: str = "https://events.pagerduty.com/v2/enqueue"
    client: str = "PADIT"
    severity_map: dict[str, Literal["critical", "error", "warning", "info"]] = {
        "critical": "critical",
        "warning": "warning",
        "info": "info",
    }


class EmailConfig(_Strict):
    """Email over SMTP (``smarthost`` is ``host:port``)."""

    to: list[str] = Field(min_length=1)
    from_: str = Field(alias="from")
    smarthost: str
    auth_username: str | None = None
    password_env: str | None = None
    starttls: bool = False
    #: Implicit TLS (SMTPS, usually port 465) instead of plain SMTP.
    tls: bool = False
    #: CA bundle to verify the server with instead of the system's (a private CA).
    ca_file: str | None = None
    hello: str | None = None
    send_resolved: bool = True
    timeout: Duration = 10.0
    subject_prefix: str = "[PADIT]"

    @field_validator("smarthost")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"smarthost must be host:port, got {value!r}")
        return value

    @model_validator(mode="after")
    def _auth(self) -> EmailConfig:
        if (self.auth_username is None) != (self.password_env is None):
            raise ValueError("set both auth_username and password_env, or neither")
        if self.starttls and self.tls:
            raise ValueError("set at most one of starttls and tls")
        return self


class ReceiverConfig(_Strict):
    """A named set of integrations that one route notifies."""

    name: str = Field(min_length=1)
    webhook_configs: list[WebhookConfig] = []
    slack_configs: list[SlackConfig] = []
    pagerduty_configs: list[PagerDutyConfig] = []
    email_configs: list[EmailConfig] = []


class DeliveryConfig(_Strict):
    """Retries of one delivery and how long an undelivered notification is kept."""

    max_attempts: int = Field(3, ge=1)
    initial_backoff: Duration = 0.5
    max_backoff: Duration = 60.0
    #: A Retry-After longer than this is capped, so one receiver cannot stall the queue.
    max_retry_after: Duration = 300.0
    #: An undelivered notification older than this is dropped and counted as failed.
    give_up_after: Duration = 86400.0
    max_outbox: int = Field(10000, ge=1)


class AlertingConfig(_Strict):
    """The ``alerting`` section."""

    lifecycle: LifecycleConfig = LifecycleConfig()
    route: RouteConfig = RouteConfig(receiver="default")
    receivers: list[ReceiverConfig] = [ReceiverConfig(name="default")]
    inhibit_rules: list[InhibitRuleConfig] = []
    delivery: DeliveryConfig = DeliveryConfig()
    external_url: str = ""
    #: How long an expired silence is kept before it is forgotten (Alertmanager's
    #: ``--data.retention``).
    data_retention: Duration = 120 * 3600.0

    @model_validator(mode="after")
    def _receivers_exist(self) -> AlertingConfig:
        names = [r.name for r in self.receivers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"receiver names must be unique, repeated: {dupes}")
        if self.route.receiver is None:
            raise ValueError("route.receiver (the default receiver) is required")
        known = set(names)

        def walk(route: RouteConfig, where: str) -> None:
            if route.receiver is not None and route.receiver not in known:
                raise ValueError(
                    f"{where}.receiver {route.receiver!r} is not one of receivers {sorted(known)}"
                )
            for i, child in enumerate(route.routes):
                walk(child, f"{where}.routes[{i}]")

        walk(self.route, "route")
        return self

    def receiver(self, name: str) -> ReceiverConfig:
        """The receiver called ``name``."""
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(name)


def load_alerting_config(path: str | Path, section: str | None = "alerting") -> AlertingConfig:
    """Read the alerting config from a YAML file.

    With ``section`` set, the config is that key of the top-level mapping (a file without
    it gives the defaults); with ``None`` the whole file is the alerting section.

    Raises:
        ConfigError: the file is unreadable, not YAML, or a key is invalid; the message
            names the file, the key and what was expected.
    """
    path = Path(path)
    raw: Any = read_yaml(path)
    prefix = ""
    if section is not None:
        raw = raw.get(section) or {}
        prefix = f"{section}."
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: key '{section}': expected a mapping")
    try:
        return AlertingConfig.model_validate(raw)
    except ValidationError as exc:
        raise config_error(exc, str(path), prefix=prefix) from exc


def secret_from_env(var: str, key: str) -> str:
    """The value of environment variable ``var``, named by config key ``key``.

    Raises:
        ConfigError: the variable is unset or empty.
    """
    value = os.environ.get(var, "")
    if not value:
        raise ConfigError(f"environment variable {var} (named by {key}) is unset or empty")
    return value
