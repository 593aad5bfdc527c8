"""MQTT subscriber (aiomqtt): topic filters to metrics, reconnecting with backoff.

A streaming adapter: each message of a subscribed filter becomes one metric per mapped value
(see :mod:`adapters.mqtt.mapping`). The endpoint's ``up`` is 1 when connected and subscribed
and is repeated every ``status_every_sec`` with ``mqtt.messages`` and ``mqtt.unmapped``
(counters); a refused, failed or lost connection is ``up=0`` with its ``error`` kind, and
the adapter reconnects after ``reconnect_min_sec``, doubling per failure up to
``reconnect_max_sec``. Messages that cannot be mapped are counted and logged with a sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import ssl
from pathlib import Path

import aiomqtt
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from adapters.base import (
    Adapter,
    EndpointConfig,
    Publish,
    Sample,
    classify_error,
    resolve_path,
)
from adapters.errors import ErrorKind
from adapters.mqtt.mapping import MappingError, Subscription, map_message, topic_matches
from adapters.stream import RecordEmitter, UnmappedLog, reconnect_delay

__all__ = ["MqttAdapter", "MqttEndpoint", "MqttTls", "Subscription", "error_kind"]

log = logging.getLogger(__name__)


class MqttTls(BaseModel):
    """TLS to the broker; relative paths are relative to the YAML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    verify: bool = True

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _exists(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is None:
            return None
        v = resolve_path(v, info)
        if not v.is_file():
            raise ValueError(f"{v} does not exist")
        return v

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_file is not None:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


class MqttEndpoint(EndpointConfig):
    """One broker connection and its subscriptions."""

    host: str = Field(min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password_env: str | None = Field(default=None, description="env var holding the password")
    tls: MqttTls | None = None
    client_id: str | None = None
    #: Keep the broker-side session (QoS 1 messages queued while disconnected); needs client_id.
    persistent_session: bool = False
    keepalive_sec: int = Field(default=30, ge=5)
    reconnect_min_sec: float = Field(default=0.5, gt=0)
    reconnect_max_sec: float = Field(default=30.0, gt=0)
    status_every_sec: float = Field(default=10.0, gt=0)
    subscriptions: list[Subscription] = Field(min_length=1)

    @field_validator("password_env")
    @classmethod
    def _env_set(cls, v: str | None) -> str | None:
        if v is not None and v not in os.environ:
            raise ValueError(f"environment variable {v} is not set")
        return v

    @model_validator(mode="after")
    def _session(self) -> MqttEndpoint:
        if self.persistent_session and not self.client_id:
            raise ValueError("persistent_session needs a client_id")
        if self.password_env and not self.username:
            raise ValueError("password_env needs a username")
        return self


def error_kind(exc: aiomqtt.MqttError) -> ErrorKind:
    """The ``error`` label of a failed or lost connection."""
    rc = getattr(exc, "rc", None)
    code = getattr(rc, "value", rc)
    if isinstance(exc, aiomqtt.MqttCodeError) and code in (4, 5, 134, 135):
        return "auth"
    text = str(exc).lower()
    if "refused" in text:
        return "refused"
    if "timed out" in text or "timeout" in text:
        return "timeout"
    if "ssl" in text or "certificate" in text:
        return "tls"
    if "name or service" in text or "resolution" in text:
        return "dns"
    if "disconnected" in text or "lost" in text:
        return "unreachable"
    return "protocol"


class MqttAdapter(Adapter[MqttEndpoint]):
    """Subscribes to an MQTT broker and publishes mapped messages as metrics.

    Example:
        >>> ep = MqttAdapter.parse_endpoint({"id": "plant", "host": "127.0.0.1",
        ...     "subscriptions": [{"topic": "plant/+/+", "source": "{1}", "metric": "{2}"}]})
        >>> MqttAdapter(ep).streaming
        True
    """

    name = "mqtt"
    config_model = MqttEndpoint
    protocol = "mqtt"
    streaming = True

    def __init__(self, config: MqttEndpoint, *, rng: random.Random | None = None) -> None:
        super().__init__(config)
        self._subs = [(s, s.compiled_paths()) for s in config.subscriptions]
        self._rng = rng or random.Random()
        self.messages = 0
        self.unmapped = UnmappedLog(config.id)
        self.connects = 0

    def _client(self) -> aiomqtt.Client:
        cfg = self.config
        password = os.environ[cfg.password_env] if cfg.password_env else None
        return aiomqtt.Client(
            cfg.host,
            cfg.port,
            username=cfg.username,
            password=password,
            identifier=cfg.client_id,
            clean_session=not cfg.persistent_session,
            keepalive=cfg.keepalive_sec,
            timeout=cfg.timeout_sec or 10.0,
            tls_context=cfg.tls.context() if cfg.tls else None,
        )

    async def run(self, publish: Publish) -> None:
        cfg = self.config
        em = RecordEmitter(
            publish, source_id=cfg.source, protocol=self.protocol, labels=cfg.labels,
            on_up=self.on_up,
        )  # fmt: skip
        failures = 0
        while not self.stopping:
            try:
                async with self._client() as client:
                    for sub, _ in self._subs:
                        await client.subscribe(sub.topic, qos=sub.qos)
                    failures = 0
                    self.connects += 1
                    log.info("endpoint %s: subscribed on %s:%d", cfg.id, cfg.host, cfg.port)
                    await em.up(True)
                    await self._until_stopped(client, em)
            except aiomqtt.MqttError as exc:
                failures += 1
                await em.up(False, error_kind(exc), f"{cfg.host}:{cfg.port}: {exc}")
            except (OSError, ValueError) as exc:
                # Raised around aiomqtt rather than wrapped by it (a TLS file gone, a socket
                # option refused): still a failed connection, still retried.
                failures += 1
                await em.up(False, classify_error(exc), f"{cfg.host}:{cfg.port}: {exc!r}")
            if self.stopping:
                break
            delay = reconnect_delay(
                max(failures, 1), cfg.reconnect_min_sec, cfg.reconnect_max_sec, self._rng
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _until_stopped(self, client: aiomqtt.Client, em: RecordEmitter) -> None:
        consume = asyncio.create_task(self._consume(client, em))
        status = asyncio.create_task(self._status(em))
        stop = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({consume, status, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (consume, status, stop):
                t.cancel()
            await asyncio.gather(status, stop, return_exceptions=True)
            with contextlib.suppress(asyncio.CancelledError):
                await consume  # re-raises the MqttError of a lost connection

    async def _status(self, em: RecordEmitter) -> None:
        while True:
            await asyncio.sleep(self.config.status_every_sec)
            await em.up(True)
            await self._counters(em)

    async def _counters(self, em: RecordEmitter) -> None:
        await em.sample(Sample("mqtt.messages", float(self.messages), metric_type="counter"))
        await em.sample(Sample("mqtt.unmapped", float(self.unmapped.total), metric_type="counter"))

    async def _consume(self, client: aiomqtt.Client, em: RecordEmitter) -> None:
        async for msg in client.messages:
            self.messages += 1
            payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
            await self.handle(msg.topic.value, payload, em)

    async def handle(self, topic: str, payload: bytes, em: RecordEmitter) -> int:
        """Map one message and publish its metrics; returns how many were published."""
        match = next((sp for sp in self._subs if topic_matches(sp[0].topic, topic)), None)
        if match is None:
            self.unmapped.add("no subscription matches", topic, payload)
            return 0
        sub, paths = match
        try:
            source, values, problems = map_message(sub, paths, topic, payload)
        except MappingError as exc:
            self.unmapped.add(str(exc), topic, payload)
            return 0
        for problem in problems:
            self.unmapped.add(problem, topic, payload)
        for metric, value in values:
            await em.sample(
                Sample(metric, value, sub.unit, metric_type=sub.metric_type), source_id=source
            )
        return len(values)

    async def cleanup(self, failed: bool) -> None:
        log.info(
            "endpoint %s: %d messages, %d unmapped %s",
            self.config.id, self.messages, self.unmapped.total, self.unmapped.by_reason,
        )  # fmt: skip
