"""MQTT adapter against Debian's mosquitto on loopback, through the real Kafka broker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.mqtt import MqttAdapter
from padit_stream.schema import Metric, decode_metric
from tests.integration.kafka_run import run_into_kafka
from tests.integration.peer_mosquitto import Mosquitto

pytestmark = pytest.mark.integration


@pytest.fixture
def mosquitto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mosquitto]:
    try:
        broker = Mosquitto(tmp_path)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("PADIT_TEST_MQTT_PASSWORD", broker.password)
    with broker:
        yield broker


def values(samples: list[Metric], source: str, metric: str) -> list[float]:
    return [s.value for s in samples if s.source_id == source and s.metric_name == metric]


async def test_topics_to_metrics_through_a_broker_restart(
    kafka_bootstrap: str, mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.stream")
    yaml = f"""
        adapters:
          - name: mqtt
            endpoints:
              - id: plant
                host: 127.0.0.1
                port: {mosquitto.port}
                username: {mosquitto.username}
                password_env: PADIT_TEST_MQTT_PASSWORD
                reconnect_min_sec: 0.2
                reconnect_max_sec: 1
                status_every_sec: 0.5
                labels: {{site: lab}}
                subscriptions:
                  - {{topic: "plant/+/num/+", source: "{{1}}", metric: "{{3}}", qos: 1, unit: C}}
                  - topic: "plant/+/json"
                    source: "{{1}}"
                    metric: "env.{{field}}"
                    payload: json
                    json_fields: {{temp: "sensors.temp", hum: "sensors.hum[1]"}}
    """
    async with run_into_kafka(kafka_bootstrap, tmp_path, yaml) as run:
        await run.wait_for(
            lambda s: (
                values(s, "plant", "up") == [1.0] * len(values(s, "plant", "up"))
                and len(values(s, "plant", "up")) >= 1
            ),
            "first up=1",
        )
        await asyncio.to_thread(mosquitto.publish, "plant/pump1/num/temp", "21.5", 1)
        await asyncio.to_thread(mosquitto.publish, "plant/pump2/num/temp", " 7 ", 0)
        await asyncio.to_thread(
            mosquitto.publish, "plant/pump1/json", '{"sensors": {"temp": 20, "hum": [1, 0.5]}}'
        )
        await asyncio.to_thread(mosquitto.publish, "plant/pump1/num/temp", "hot")
        await run.wait_for(
            lambda s: values(s, "pump1", "env.hum") == [0.5], "JSON field through a path"
        )
        await run.wait_for(lambda s: 1.0 in values(s, "plant", "mqtt.unmapped"), "unmapped counter")

        # Broker restart mid-stream: up=0 while it is away, a reconnect, and data again.
        n_up = len(values(run.samples, "plant", "up"))
        await asyncio.to_thread(mosquitto.stop)
        await run.wait_for(
            lambda s: 0.0 in values(s, "plant", "up")[n_up:], "up=0 after the broker went away"
        )
        await asyncio.to_thread(mosquitto.start)
        await run.wait_for(
            lambda s: (
                values(s, "plant", "up")[-1] == 1.0 and 0.0 in values(s, "plant", "up")[n_up:]
            ),
            "up=1 after the broker came back",
        )
        await asyncio.to_thread(mosquitto.publish, "plant/pump1/num/temp", "22.5", 1)
        await run.wait_for(
            lambda s: values(s, "pump1", "temp") == [21.5, 22.5], "data after the restart"
        )

    s = run.samples
    assert values(s, "pump2", "temp") == [7.0]
    assert values(s, "pump1", "env.temp") == [20.0]
    [temp] = [x for x in s if x.source_id == "pump1" and x.metric_name == "temp"][:1]
    assert (temp.unit, temp.protocol, temp.labels) == ("C", "mqtt", {"site": "lab"})
    downs = [x for x in s if x.metric_name == "up" and x.value == 0.0]
    # The lost connection first, then refused reconnects until the broker listens again.
    assert downs[0].labels == {"site": "lab", "error": "unreachable"}
    assert {x.labels["error"] for x in downs[1:]} <= {"refused", "unreachable"}
    assert any("unmapped message" in r.getMessage() and "b'hot'" in r.getMessage()
               for r in caplog.records)  # fmt: skip


@contextlib.asynccontextmanager
async def streaming(adapter: MqttAdapter) -> AsyncIterator[list[Metric]]:
    got: list[Metric] = []

    async def publish(key: bytes, value: bytes, ts: float) -> None:
        got.append(decode_metric(value))

    task = asyncio.create_task(adapter.run(publish))
    try:
        yield got
    finally:
        adapter.stop()
        await asyncio.wait_for(task, 10)


async def until(cond: Any, what: str, timeout: float = 20) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not cond():  # noqa: ASYNC110 - the condition is on another task's list
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout} s") from None


def adapter(broker: Mosquitto, **kw: Any) -> MqttAdapter:
    ep = MqttAdapter.parse_endpoint({
        "id": "m", "host": "127.0.0.1", "port": broker.port, "username": broker.username,
        "password_env": "PADIT_TEST_MQTT_PASSWORD", "reconnect_min_sec": 0.2,
        "subscriptions": [{"topic": "q/#", "source": "{1}", "metric": "v", "qos": 1}], **kw,
    })  # fmt: skip
    return MqttAdapter(ep)  # type: ignore[arg-type]


async def test_qos1_messages_wait_in_a_persistent_session(mosquitto: Mosquitto) -> None:
    a1 = adapter(mosquitto, client_id="padit-qos-test", persistent_session=True)
    async with streaming(a1) as got:
        await until(lambda: any(s.metric_name == "up" for s in got), "subscribed")
    # The adapter is gone; the broker keeps its session and queues QoS 1 messages for it.
    await asyncio.to_thread(mosquitto.publish, "q/dev1", "3", 1)
    await asyncio.to_thread(mosquitto.publish, "q/dev1", "4", 0)
    a2 = adapter(mosquitto, client_id="padit-qos-test", persistent_session=True)
    async with streaming(a2) as got:
        await until(lambda: any(s.source_id == "dev1" for s in got), "queued message")
        await asyncio.to_thread(mosquitto.publish, "q/dev1", "5", 1)
        await until(lambda: [s.value for s in got if s.source_id == "dev1"][-1] == 5.0, "live")
    # QoS 0 published while away is not queued; QoS 1 is.
    assert [s.value for s in got if s.source_id == "dev1"] == [3.0, 5.0]


async def test_wrong_password_is_auth_error(
    mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PADIT_TEST_MQTT_PASSWORD", "wrong")
    a = adapter(mosquitto)
    async with streaming(a) as got:
        await until(lambda: any(s.metric_name == "up" for s in got), "first up")
    [first, *_] = [s for s in got if s.metric_name == "up"]
    assert (first.value, first.labels) == (0.0, {"error": "auth"})


async def test_no_broker_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broker = Mosquitto(tmp_path)  # never started: nothing listens on its port
    monkeypatch.setenv("PADIT_TEST_MQTT_PASSWORD", "x")
    a = adapter(broker)
    async with streaming(a) as got:
        await until(lambda: sum(s.metric_name == "up" for s in got) >= 2, "two attempts")
    assert {(s.value, s.labels["error"]) for s in got} == {(0.0, "refused")}


async def test_tls_with_the_broker_ca_and_a_wrong_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trustme = pytest.importorskip("trustme", reason="trustme is a dev dependency")
    ca, other_ca = trustme.CA(), trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    chain, key = tmp_path / "server.pem", tmp_path / "server.key"
    chain.write_bytes(b"".join(p.bytes() for p in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    other_ca.cert_pem.write_to_path(str(tmp_path / "other.pem"))
    try:
        broker = Mosquitto(tmp_path, tls=(chain, key))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("PADIT_TEST_MQTT_PASSWORD", broker.password)
    with broker:
        good = adapter(broker, tls={"ca_file": str(tmp_path / "ca.pem")})
        async with streaming(good) as got:
            await until(lambda: any(s.metric_name == "up" for s in got), "connected")
            await asyncio.to_thread(broker.publish_tls, "q/dev9", "1.5", tmp_path / "ca.pem")
            await until(lambda: any(s.source_id == "dev9" for s in got), "message over TLS")
        assert next(s.value for s in got if s.metric_name == "up") == 1.0
        bad = adapter(broker, tls={"ca_file": str(tmp_path / "other.pem")})
        async with streaming(bad) as got:
            await until(lambda: any(s.metric_name == "up" for s in got), "first attempt")
        assert {(s.value, s.labels["error"]) for s in got} == {(0.0, "tls")}


async def test_a_ca_file_gone_after_start_up_is_data_and_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("placeholder; removed before the first connect\n")
    broker = Mosquitto(tmp_path)  # never started: the TLS context fails before any connect
    monkeypatch.setenv("PADIT_TEST_MQTT_PASSWORD", "x")
    a = adapter(broker, tls={"ca_file": str(ca)})
    ca.unlink()
    async with streaming(a) as got:
        await until(lambda: sum(s.metric_name == "up" for s in got) >= 2, "two attempts")
    assert {s.value for s in got} == {0.0}
