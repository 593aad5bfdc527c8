"""Poison records and bad clocks, sent as a hostile producer would, to a real worker.

In each case the worker stays up (same process, /health 200), the partition makes progress,
every good record around the bad ones is processed, and each bad one is in the dead-letter
topic once, with its reason (truncated, with its original size and digest, when too large to
forward whole).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from padit_stream.schema import encode_metric, metric_key
from tests.stream_support import Stream, Worker, consume_until, metric_records

pytestmark = pytest.mark.integration

# Good records are dated a day ago: inside the plausible range of event time.
T0 = time.time() - 86400
BROKER_MAX = 1_048_588  # the broker's message.max.bytes (Kafka's default)


@pytest.fixture(scope="module")
def deployment(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    stream = Stream(kafka_bootstrap, tmp_path_factory.mktemp("poison"), PADIT_EMIT_EVERY_SEC="0")
    worker = stream.worker()
    try:
        worker.wait_ready()
        yield stream, worker
    finally:
        stream.close()


async def send(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    # Up to what the broker accepts, not the client's 1 MB default.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=4 * BROKER_MAX, linger_ms=5
    )
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()


def good(series: str, start: int, n: int) -> list[tuple[bytes | None, bytes]]:
    return metric_records(series, "rtt_ms", [(T0 + start + i, 1.0 + i % 3) for i in range(n)])


async def features_of(stream: Stream, series: str, expected: int) -> list[Any]:
    key = metric_key(series, "rtt_ms")
    records = await consume_until(
        stream.bootstrap,
        stream.topic("features"),
        lambda rs: sum(r.key == key for r in rs) >= expected,
        120,
    )
    return [r for r in records if r.key == key]


async def dead_letters_from(stream: Stream, marker: bytes, expected: int) -> list[Any]:
    """Dead letters whose (possibly truncated) value starts with ``marker``."""
    records = await consume_until(
        stream.bootstrap,
        stream.topic("deadletter"),
        lambda rs: sum((r.value or b"").startswith(marker) for r in rs) >= expected,
        120,
    )
    return [r for r in records if (r.value or b"").startswith(marker)]


def assert_healthy(stream: Stream, worker: Worker, pid: int) -> None:
    assert worker.alive() and worker.proc is not None and worker.proc.pid == pid
    response = httpx.get(f"{worker.url}/health", timeout=5)
    assert response.status_code == 200, response.text
    log = worker.log_text()
    assert "We experienced a crash" not in log
    assert "internal error" not in log and "Traceback" not in log


async def test_a_record_at_the_brokers_maximum_size(deployment: Any) -> None:
    stream, worker = deployment
    assert worker.proc is not None
    pid = worker.proc.pid
    key = metric_key("poison-max", "rtt_ms")
    huge = b"#max " + b"x" * (BROKER_MAX - 200)
    await send(stream.bootstrap, stream.topic("metrics"),
               [*good("poison-max", 0, 20), (key, huge), *good("poison-max", 20, 20)])  # fmt: skip
    assert len(await features_of(stream, "poison-max", 40)) == 40
    [dead] = await dead_letters_from(stream, b"#max ", 1)
    headers = dict(dead.headers)
    assert headers["padit-truncated"] == b"true"
    assert headers["padit-original-value-bytes"] == str(len(huge)).encode()
    assert headers["padit-value-sha256"] == hashlib.sha256(huge).hexdigest().encode()
    assert b"over the limit" in headers["padit-reason"]
    assert len(dead.value) < 70_000
    assert_healthy(stream, worker, pid)


async def test_a_record_with_a_one_megabyte_key_or_source_id(deployment: Any) -> None:
    stream, worker = deployment
    pid = worker.proc.pid
    # A valid metric under a 1 MB key: sent again under its own key and windowed.
    valid = encode_metric(T0 + 20, "poison-key", "rtt_ms", 2.0)
    # The record: a source_id a megabyte long (key and value each ~1 MB would be over
    # the broker's limit together, so it comes with a short key).
    long_id = b"#id " + encode_metric(T0, "s" * 1_000_000, "rtt_ms", 1.0)
    await send(stream.bootstrap, stream.topic("metrics"), [
        *good("poison-key", 0, 20), (b"k" * 1_000_000, valid), (b"short", long_id),
        *good("poison-key", 21, 20),
    ])  # fmt: skip
    features = await features_of(stream, "poison-key", 41)
    assert len(features) == 41
    assert 2.0 in [orjson.loads(r.value)["last"] for r in features]
    [dead] = await dead_letters_from(stream, b"#id ", 1)
    assert dict(dead.headers)["padit-original-value-bytes"] == str(len(long_id)).encode()
    assert_healthy(stream, worker, pid)


async def test_a_burst_of_records_that_expand_when_dead_lettered(deployment: Any) -> None:
    stream, worker = deployment
    pid = worker.proc.pid
    # Each bad record is just under what a producer batch takes: with dead-letter headers
    # and a reason it would be over it, and over a single dead letter's size.
    bad = [b"#burst %03d " % i + b"{" * (512 * 1024 - 64) for i in range(30)]
    records: list[tuple[bytes | None, bytes]] = []
    for i, value in enumerate(bad):
        records += good("poison-burst", 3 * i, 3)
        records.append((metric_key("poison-burst", "rtt_ms"), value))
    await send(stream.bootstrap, stream.topic("metrics"), records)
    assert len(await features_of(stream, "poison-burst", 90)) == 90
    dead = await dead_letters_from(stream, b"#burst ", 30)
    assert sorted(r.value[:10] for r in dead) == sorted(v[:10] for v in bad)
    assert all(dict(r.headers)["padit-truncated"] == b"true" for r in dead)
    assert_healthy(stream, worker, pid)


async def test_bad_clocks_are_refused_and_do_not_poison_the_series(deployment: Any) -> None:
    stream, worker = deployment
    pid = worker.proc.pid
    key = metric_key("poison-clock", "rtt_ms")
    wrong = [
        encode_metric(time.time() + 30 * 365.25 * 86400, "poison-clock", "rtt_ms", 9.0),
        encode_metric(-1e300, "poison-clock", "rtt_ms", 9.0),
        encode_metric(0.0, "poison-clock", "rtt_ms", 9.0),  # a clock never set
    ]
    await send(stream.bootstrap, stream.topic("metrics"), [
        *good("poison-clock", 0, 10), *((key, v) for v in wrong), *good("poison-clock", 10, 10),
    ])  # fmt: skip
    assert len(await features_of(stream, "poison-clock", 20)) == 20
    dead = await dead_letters_from(stream, b'{"timestamp":', 3)
    reasons = sorted(dict(r.headers)["padit-reason"].decode() for r in dead if r.value in wrong)
    assert len(reasons) == 3
    assert sum("ahead of the worker clock" in r for r in reasons) == 1
    assert sum("plausible minimum" in r for r in reasons) == 2
    window = httpx.get(f"{worker.url}/windows/poison-clock/rtt_ms", timeout=10).json()
    assert window["count"] == 20
    assert window["last_timestamp"] == pytest.approx(T0 + 19)
    assert_healthy(stream, worker, pid)
