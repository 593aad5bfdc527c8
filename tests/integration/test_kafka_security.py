"""Kafka over TLS with SASL/SCRAM-SHA-512: a real broker (kafka.sh up --sasl-ssl), real clients.

The broker's SASL_SSL listener has a certificate from a test CA made for this run; its
PLAINTEXT listener is only used by the test itself to set up topics and look at results.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from adapters.runner import KafkaPublisher
from padit_stream.errors import ConfigError
from padit_stream.security import (
    KafkaAuthError,
    KafkaSecurity,
    KafkaUnreachableError,
    aiokafka_kwargs,
    check_connection,
)
from tests.kafka_support import KafkaBroker, create_topic, free_port
from tests.stream_support import REPO_ROOT, Stream, metric_records

pytestmark = pytest.mark.integration

PASSWORD_VAR = "PADIT_TEST_KAFKA_PASSWORD"


@pytest.fixture(scope="module")
def broker() -> Iterator[KafkaBroker]:
    b = KafkaBroker(sasl_ssl=True).start()
    try:
        yield b
    finally:
        b.stop()


def security(broker: KafkaBroker, **changes: Any) -> KafkaSecurity:
    fields: dict[str, Any] = {
        "protocol": "SASL_SSL",
        "ca_file": broker.ca_file,
        "sasl_mechanism": broker.sasl_mechanism,
        "username": broker.username,
        "password_env": PASSWORD_VAR,
        **changes,
    }
    return KafkaSecurity.model_validate(fields)


def client_env(broker: KafkaBroker) -> dict[str, str]:
    """The environment a PADIT process gets to reach the broker over SASL_SSL."""
    return {
        "PADIT_BROKER": f"kafka://{broker.sasl_bootstrap}",
        "PADIT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "PADIT_KAFKA_CA_FILE": str(broker.ca_file),
        "PADIT_KAFKA_SASL_MECHANISM": broker.sasl_mechanism,
        "PADIT_KAFKA_USERNAME": broker.username,
        "PADIT_KAFKA_PASSWORD_ENV": "PADIT_KAFKA_PASSWORD",
        "PADIT_KAFKA_PASSWORD": broker.password,
    }


async def produce(
    bootstrap: str, kwargs: dict[str, Any], topic: str, records: list[tuple[bytes, bytes]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **kwargs)
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()


async def read_all(
    bootstrap: str, kwargs: dict[str, Any], topic: str, want: int, timeout: float = 60.0
) -> list[tuple[bytes | None, bytes | None]]:
    """Records of ``topic`` from the beginning until ``want`` of them or the timeout."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, metadata_max_age_ms=1000, **kwargs
    )
    await consumer.start()
    out: list[tuple[bytes | None, bytes | None]] = []
    try:
        deadline = time.monotonic() + timeout
        parts: set[int] | None = None
        while time.monotonic() < deadline and len(out) < want:
            if not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic)
                if not parts:
                    await asyncio.sleep(0.3)
                    continue
                consumer.assign([TopicPartition(topic, p) for p in parts])
                await consumer.seek_to_beginning()
            batch = await consumer.getmany(timeout_ms=500)
            out += [(m.key, m.value) for msgs in batch.values() for m in msgs]
        return out
    finally:
        await consumer.stop()


async def test_produce_and_consume_over_sasl_ssl(broker: KafkaBroker) -> None:
    topic = f"sasl-{uuid.uuid4().hex[:8]}"
    kwargs = aiokafka_kwargs(security(broker), env={PASSWORD_VAR: broker.password})
    records = [(f"k{i}".encode(), f"v{i}".encode()) for i in range(5)]
    await produce(broker.sasl_bootstrap, kwargs, topic, records)
    got = await read_all(broker.sasl_bootstrap, kwargs, topic, want=5)
    assert sorted(got) == sorted(records)


async def test_adapters_publisher_over_sasl_ssl(broker: KafkaBroker) -> None:
    """The adapters' producer takes the same keyword arguments (PADIT_KAFKA_* in production)."""
    topic = f"sasl-adapters-{uuid.uuid4().hex[:8]}"
    kwargs = aiokafka_kwargs(security(broker), env={PASSWORD_VAR: broker.password})
    async with KafkaPublisher(f"kafka://{broker.sasl_bootstrap}", topic, **kwargs) as pub:
        await pub.publish(b"ru-1", b"m1", 1_767_225_600.0)
    assert pub.delivery_errors == 0
    assert await read_all(broker.bootstrap, {}, topic, want=1) == [(b"ru-1", b"m1")]


async def test_password_from_a_file(broker: KafkaBroker, tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text(broker.password + "\n", encoding="utf-8")
    sec = security(broker, password_env=None, password_file=secret)
    kwargs = aiokafka_kwargs(sec, env={})
    topic = f"sasl-file-{uuid.uuid4().hex[:8]}"
    await produce(broker.sasl_bootstrap, kwargs, topic, [(b"k", b"v")])
    assert await read_all(broker.sasl_bootstrap, kwargs, topic, want=1) == [(b"k", b"v")]


async def test_wrong_password_is_refused(
    broker: KafkaBroker, caplog: pytest.LogCaptureFixture
) -> None:
    sec = security(broker)
    env = {PASSWORD_VAR: broker.password + "x"}
    with pytest.raises(KafkaAuthError) as info:
        await check_connection(broker.sasl_bootstrap, sec, env)
    text = str(info.value)
    assert text.startswith(f"{broker.sasl_bootstrap}: SASL SCRAM-SHA-512 login as 'padit' refused")
    assert "invalid credentials" in text
    # A plain client is refused too; aiokafka only logs the reason, check_connection says it.
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.sasl_bootstrap, **aiokafka_kwargs(sec, env)
    )
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()
    assert "SaslAuthenticationFailed" in caplog.text


async def test_right_password_passes_the_check(broker: KafkaBroker) -> None:
    await check_connection(broker.sasl_bootstrap, security(broker), {PASSWORD_VAR: broker.password})


async def test_unknown_user_is_refused(broker: KafkaBroker) -> None:
    sec = security(broker, username="mallory")
    with pytest.raises(KafkaAuthError, match="login as 'mallory' refused"):
        await check_connection(broker.sasl_bootstrap, sec, {PASSWORD_VAR: broker.password})


async def test_broker_not_signed_by_a_trusted_ca_is_refused(broker: KafkaBroker) -> None:
    # No ca_file: the system trust store, which has never heard of the test CA.
    sec = security(broker, ca_file=None)
    env = {PASSWORD_VAR: broker.password}
    with pytest.raises(KafkaAuthError, match=r"certificate is not trusted.*system trust store"):
        await check_connection(broker.sasl_bootstrap, sec, env)
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.sasl_bootstrap, **aiokafka_kwargs(sec, env)
    )
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()


async def test_plaintext_port_with_sasl_ssl_settings_is_unreachable(broker: KafkaBroker) -> None:
    """TLS spoken to the PLAINTEXT listener: no handshake, reported as no answer, not as a login."""
    sec = security(broker)
    with pytest.raises(KafkaUnreachableError, match="could be reached over SASL_SSL"):
        await check_connection(broker.bootstrap, sec, {PASSWORD_VAR: broker.password}, timeout=5)


def test_unreadable_ca_file_names_the_key(tmp_path: Path, broker: KafkaBroker) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n", encoding="utf-8")
    for path in (bad, tmp_path / "missing.pem"):
        with pytest.raises(ConfigError, match=r"^kafka\.ca_file: cannot load CA certificates"):
            aiokafka_kwargs(security(broker, ca_file=path), env={PASSWORD_VAR: "x"})


def test_missing_password_file_names_the_key(tmp_path: Path, broker: KafkaBroker) -> None:
    sec = security(broker, password_env=None, password_file=tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"^kafka\.password_file: cannot read"):
        aiokafka_kwargs(sec, env={})


def start_faust_app(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    args = ["worker", "-l", "info", "--web-port", str(port), "--web-host", "127.0.0.1"]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.faust_sasl_app", *args],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def test_faust_app_with_credentials_consumes_and_keeps_a_table(
    broker: KafkaBroker, tmp_path: Path
) -> None:
    """A Faust worker whose only broker address is the SASL_SSL listener does its whole job."""
    tag = uuid.uuid4().hex[:8]
    app_id, topic_in, topic_out = f"sasl-app-{tag}", f"sasl-in-{tag}", f"sasl-out-{tag}"
    await create_topic(broker.bootstrap, topic_in, partitions=2)
    records = [(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"a", b"3")]
    plain: dict[str, Any] = {}
    await produce(broker.bootstrap, plain, topic_in, records)

    port = free_port()
    env = {
        **os.environ,
        **client_env(broker),
        "SASL_TEST_APP_ID": app_id,
        "SASL_TEST_IN": topic_in,
        "SASL_TEST_OUT": topic_out,
        "SASL_TEST_DATA_DIR": str(tmp_path / "data"),
    }
    log_path = tmp_path / "faust.log"
    proc = start_faust_app(env, port, log_path)
    try:
        # Read back over the PLAINTEXT listener: what the app wrote, not what it can read.
        out = await read_all(broker.bootstrap, plain, topic_out, want=4, timeout=90)
        changelog = await read_all(broker.bootstrap, plain, f"{app_id}-counts-changelog", want=4)
        assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    log_text = log_path.read_text(errors="replace")
    assert sorted(out) == [(b"a", b"1"), (b"a", b"2"), (b"a", b"3"), (b"b", b"1")], log_text[-3000:]
    assert len(changelog) == 4
    assert "Authentication failed" not in log_text


async def test_padit_worker_over_sasl_ssl(broker: KafkaBroker, tmp_path: Path) -> None:
    """The real stream job, configured only through PADIT_* variables, over SASL_SSL."""
    stream = Stream(broker.sasl_bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0", **client_env(broker))
    try:
        worker = stream.worker()
        worker.wait_ready(timeout=120)
        kwargs = aiokafka_kwargs(security(broker), env={PASSWORD_VAR: broker.password})
        points = [(1_767_225_600.0 + i, 5.0 + i) for i in range(6)]
        await produce(
            broker.sasl_bootstrap,
            kwargs,
            stream.topic("metrics"),
            metric_records("sasl-endpoint", "latency_ms", points),
        )
        url = f"{worker.url}/windows/sasl-endpoint/latency_ms"
        deadline = time.monotonic() + 60
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = httpx.get(url, timeout=5)
            body = response.json()
            if response.status_code == 200 and body["count"] == len(points):
                break
            await asyncio.sleep(0.5)
        assert body.get("count") == len(points), (body, worker.log_tail())
    finally:
        stream.close()
