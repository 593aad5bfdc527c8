"""Settings of the stream job: ``config/padit.yaml`` validated by pydantic, then env overrides.

Environment variables win over the file: ``PADIT_CONFIG`` (the file), ``PADIT_BROKER``,
``PADIT_APP_ID``, ``PADIT_DATA_DIR``, ``PADIT_WEB_HOST``, ``PADIT_WEB_PORT``,
``PADIT_PARTITIONS``, ``PADIT_TOPIC_PREFIX``, ``PADIT_EMIT_EVERY_SEC``,
``PADIT_SESSION_TIMEOUT_SEC``, ``PADIT_STANDBY_REPLICAS``, ``PADIT_MAX_FUTURE_SEC``,
``PADIT_SHUTDOWN_TIMEOUT_SEC``, ``PADIT_STALL_TIMEOUT_SEC``, ``PADIT_SERIES_SCORES``. Setting
``PADIT_WEBHOOK_URL`` adds an Alertmanager-format webhook to the default receiver. Secrets
(webhook URLs with tokens, routing keys, passwords) belong in the environment, never in the
YAML in the repository: the YAML names the variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from padit_stream.alerting.config import AlertingConfig, WebhookConfig
from padit_stream.configfile import config_error, read_yaml
from padit_stream.detectors.config import DetectionConfig
from padit_stream.errors import ConfigError
from padit_stream.security import ENV_VARS as _KAFKA_ENV_VARS
from padit_stream.security import KafkaSecurity

__all__ = [
    "AlertmanagerSettings",
    "AppSettings",
    "DetectionSettings",
    "HistorySettings",
    "LimitsSettings",
    "MetricsSettings",
    "Settings",
    "TopicSettings",
    "WindowSettings",
    "load_settings",
]

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "padit.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppSettings(_Strict):
    """The Faust app: identity, broker, storage and web view."""

    id: str = Field("padit", min_length=1)
    broker: str = "kafka://127.0.0.1:9092"
    data_dir: Path = Path("data/worker")
    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, ge=1, le=65535)
    # Records of one partition per call of a bulk agent (padit_stream.consumer): a series'
    # state is written once per call. A fetch is never held back to fill a batch.
    batch_size: int = Field(500, ge=1)
    standby_replicas: int = Field(0, ge=0)
    # How long the group waits for a silent worker before moving its partitions away.
    session_timeout_sec: float = Field(30.0, ge=6, le=300)
    # Name of the environment variable holding the token that state-changing web API calls
    # (silences) must present as "Authorization: Bearer <token>".
    api_token_env: str = "PADIT_API_TOKEN"
    # Name of the environment variable holding a separate token for changes (POST, DELETE);
    # when it is unset, the read token (api_token_env) allows changes too.
    api_write_token_env: str = "PADIT_API_WRITE_TOKEN"
    # After SIGTERM or a crash the worker exits within this many seconds, flushing what it
    # can: a shutdown stuck on a broker or a hung component must not leave a zombie that a
    # liveness probe keeps in service.
    shutdown_timeout_sec: float = Field(30.0, gt=0, le=600)
    # /health answers 503 when input is waiting and the stream has made no progress for
    # this long (a crashed or stuck consumer, producer or agent), so the pod is restarted.
    stall_timeout_sec: float = Field(120.0, gt=0)

    @field_validator("broker")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        hosts = value.removeprefix("kafka://")
        if not hosts or any(":" not in h for h in hosts.split(";")):
            raise ValueError("expected kafka://HOST:PORT (several separated by ';')")
        return value if value.startswith("kafka://") else f"kafka://{value}"


class TopicSettings(_Strict):
    """Topic names are ``{prefix}.{kind}.v{version}``."""

    prefix: str = "padit"
    version: int = Field(1, ge=1)
    partitions: int = Field(4, ge=1)
    replication: int = Field(1, ge=1)

    def name(self, kind: str) -> str:
        return f"{self.prefix}.{kind}.v{self.version}"


class WindowSettings(_Strict):
    """Per-(source, metric) sliding windows, on event time."""

    span_sec: float = Field(300.0, gt=0)
    max_samples: int = Field(1000, ge=1)
    allowed_lateness_sec: float = Field(30.0, ge=0)
    # 0 emits features on every metric; otherwise once per this much event time per series.
    emit_every_sec: float = Field(60.0, ge=0)
    ewma_alpha: float = Field(0.3, gt=0, le=1)
    # Event time that a bad clock cannot poison: a sample further ahead of the worker's
    # wall clock than this is refused (replays of old data are unaffected) ...
    max_future_sec: float = Field(300.0, gt=0)
    # ... and so is one older than this (0: no bound) or before ``min_timestamp``, the
    # oldest plausible time (a device whose clock was never set reports 1970).
    max_age_sec: float = Field(0.0, ge=0)
    min_timestamp: AwareDatetime = datetime(2000, 1, 1, tzinfo=UTC)
    # After this many consecutive samples of a series refused as late, its clock is taken to
    # have jumped back (the newest sample was wrong): the window restarts from the new
    # timeline instead of refusing everything until event time catches up. 0: never.
    rewind_after: int = Field(10, ge=0)


class LimitsSettings(_Strict):
    """Bounds on what one input record can make the worker hold, log or forward."""

    # A metric record larger than this is refused before it is parsed.
    max_metric_bytes: int = Field(65_536, ge=256)
    # Longest source_id / metric_name (characters): both become keys of state and topics.
    max_name_chars: int = Field(256, ge=8)
    max_labels: int = Field(64, ge=0)
    max_label_chars: int = Field(1024, ge=8)
    # A dead-lettered record larger than this (key + value) is truncated to it, with headers
    # giving its original size and digest; the producer could not forward it whole.
    deadletter_max_bytes: int = Field(65_536, ge=1024, le=512 * 1024)


class DetectionSettings(DetectionConfig):
    """Detectors per metric (see ``detectors.config``) and the anomaly decision."""

    # An evaluation is an anomaly when its score is above this.
    anomaly_threshold: float = Field(0.5, ge=0, le=1)
    # Decoded detectors a worker keeps in memory (least recently used ones are dropped and
    # read back from RocksDB when next needed). A trained composite detector takes ~160 KiB
    # decoded and is needed once per features record, so 100,000 series must not all stay.
    cached_detectors: int = Field(5_000, ge=1)


class HistorySettings(_Strict):
    """Per-series history the API serves (values and scores per bucket, alert intervals)."""

    retention_sec: float = Field(86_400.0, gt=0, le=31 * 86_400)
    step_sec: float = Field(60.0, ge=1)
    # Buckets per stored chunk row: a row is rewritten each time one of its buckets closes.
    chunk_buckets: int = Field(16, ge=1, le=1024)
    # Decoded histories a worker keeps in memory per kind (values, scores); the others are
    # read back from RocksDB when next needed.
    cached: int = Field(10_000, ge=1)
    # A series that received nothing for this long (wall clock) is "stale" in the API.
    stale_after_sec: float = Field(300.0, gt=0)


class MetricsSettings(_Strict):
    """Prometheus metrics on ``/metrics`` (see README "Monitoring PADIT")."""

    # Per-series gauges (latest value, anomaly score, alert state) on the worker that owns
    # the series. Off by default: every series becomes three time series in Prometheus.
    series_scores: bool = False
    # At most this many series are exported per worker; further ones are counted as
    # dropped (padit_series_export_dropped_total), never exported.
    max_series: int = Field(1_000, ge=1, le=1_000_000)


class AlertmanagerSettings(_Strict):
    """Push alerts to Alertmanagers' ``/api/v2/alerts``, as Prometheus does."""

    # Base URLs (http://host:9093); empty: no pushing.
    urls: list[str] = []
    # Firing alerts are sent again this often, so Alertmanager keeps them active; their
    # endsAt is 4 intervals ahead, so a PADIT that stops sending lets them expire.
    resend_interval_sec: float = Field(60.0, gt=0, le=3600)
    # Resolved alerts are sent again for this long (an Alertmanager that was away hears of
    # the resolution once it is back).
    resolved_retention_sec: float = Field(900.0, ge=0)
    timeout_sec: float = Field(10.0, gt=0, le=120)
    # Name of the environment variable holding a bearer token for the Alertmanagers, if any.
    bearer_token_env: str = ""
    # false switches PADIT's own notification stage off (routing, grouping, silences and
    # receivers are then Alertmanager's); alerts still go to the alerts topic.
    builtin_notifications: bool = True

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"expected http(s)://HOST:PORT, got {url!r}")
        return [u.rstrip("/") for u in value]


class Settings(_Strict):
    """Everything the stream job reads from ``config/padit.yaml``."""

    app: AppSettings = AppSettings()
    topics: TopicSettings = TopicSettings()
    window: WindowSettings = WindowSettings()
    limits: LimitsSettings = LimitsSettings()
    detection: DetectionSettings = DetectionSettings()
    alerting: AlertingConfig = AlertingConfig()
    history: HistorySettings = HistorySettings()
    # TLS/SASL of every Kafka client of the worker (see padit_stream.security).
    kafka: KafkaSecurity = KafkaSecurity()
    metrics: MetricsSettings = MetricsSettings()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()


# env var -> path in the YAML document
_ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "PADIT_BROKER": ("app", "broker"),
    "PADIT_APP_ID": ("app", "id"),
    "PADIT_DATA_DIR": ("app", "data_dir"),
    "PADIT_WEB_HOST": ("app", "web_host"),
    "PADIT_WEB_PORT": ("app", "web_port"),
    "PADIT_PARTITIONS": ("topics", "partitions"),
    "PADIT_TOPIC_PREFIX": ("topics", "prefix"),
    "PADIT_SESSION_TIMEOUT_SEC": ("app", "session_timeout_sec"),
    "PADIT_STANDBY_REPLICAS": ("app", "standby_replicas"),
    "PADIT_EMIT_EVERY_SEC": ("window", "emit_every_sec"),
    "PADIT_MAX_FUTURE_SEC": ("window", "max_future_sec"),
    "PADIT_SHUTDOWN_TIMEOUT_SEC": ("app", "shutdown_timeout_sec"),
    "PADIT_STALL_TIMEOUT_SEC": ("app", "stall_timeout_sec"),
    "PADIT_HISTORY_RETENTION_SEC": ("history", "retention_sec"),
    "PADIT_HISTORY_STEP_SEC": ("history", "step_sec"),
    "PADIT_STALE_AFTER_SEC": ("history", "stale_after_sec"),
    "PADIT_SERIES_SCORES": ("metrics", "series_scores"),
    # PADIT_KAFKA_SECURITY_PROTOCOL, PADIT_KAFKA_CA_FILE, ... -> kafka.protocol, kafka.ca_file
    **{var: ("kafka", field) for var, field in _KAFKA_ENV_VARS.items()},
}


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the YAML file (``PADIT_CONFIG`` or ``config/padit.yaml``) and apply env overrides.

    Raises:
        ConfigError: naming the file (or environment variable), the key and what was expected.
    """
    env = os.environ if env is None else env
    file = Path(path or env.get("PADIT_CONFIG") or DEFAULT_CONFIG)
    doc = read_yaml(file, missing_ok=True)
    applied: dict[tuple[str, ...], str] = {}
    for var, loc in _ENV_OVERRIDES.items():
        if var in env:
            section = doc.setdefault(loc[0], {})
            if not isinstance(section, dict):
                raise ConfigError(f"{file}: key '{loc[0]}': expected a mapping")
            section[loc[1]] = env[var]
            applied[loc] = var
    try:
        settings = Settings.model_validate(doc)
    except ValidationError as exc:
        raise config_error(exc, str(file), env_keys=applied) from exc
    if env.get("PADIT_WEBHOOK_URL"):
        settings = _with_env_webhook(settings)
    return settings


def _with_env_webhook(settings: Settings) -> Settings:
    alerting = settings.alerting
    default = alerting.route.receiver
    receivers = [
        r.model_copy(
            update={
                "webhook_configs": [*r.webhook_configs, WebhookConfig(url_env="PADIT_WEBHOOK_URL")]
            }
        )
        if r.name == default
        else r
        for r in alerting.receivers
    ]
    return settings.model_copy(
        update={"alerting": alerting.model_copy(update={"receivers": receivers})}
    )
