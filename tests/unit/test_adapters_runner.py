"""The runner with in-memory adapters and publisher (no network)."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
from typing import Any

import orjson
import pytest

from adapters.base import (
    Adapter,
    EndpointConfig,
    ProbeResult,
    Publish,
    Sample,
    classify_error,
    guarded,
)
from adapters.config import EndpointSpec
from adapters.errors import AdapterError, ProbeError
from adapters.runner import Runner, backoff_step, normalize_bootstrap, to_records
from padit_stream.schema import decode_metric, parse_metric_key


def decoded(records: list[tuple[bytes, bytes, float]]) -> dict[str, Any]:
    out = {}
    for key, value, _ts in records:
        sample = decode_metric(value)
        assert parse_metric_key(key) == (sample.source_id, sample.metric_name)
        out[sample.metric_name] = sample
    return out


def test_records_of_a_success() -> None:
    res = ProbeResult([Sample("latency_ms", 12.5, "ms", labels={"phase": "all"})])
    recs = to_records([res], source_id="api", protocol="http", labels={"site": "a"}, now=100.0)
    got = decoded(recs)
    assert set(got) == {"latency_ms", "up"}
    lat = got["latency_ms"]
    assert (lat.value, lat.unit, lat.protocol, lat.timestamp) == (12.5, "ms", "http", 100.0)
    assert lat.labels == {"site": "a", "phase": "all"}
    assert got["up"].value == 1.0
    assert "error" not in got["up"].labels


def test_records_of_sub_probes_with_one_failure() -> None:
    results = [
        ProbeResult([Sample("udp_echo.rtt_ms", 0.4, timestamp=5.0)], probe="udp_echo"),
        ProbeResult([], probe="lbm", error="permission"),
    ]
    got = decoded(to_records(results, source_id="ru", protocol="oran", labels={}, now=7.0))
    assert got["udp_echo.rtt_ms"].timestamp == 5.0
    assert got["udp_echo.up"].value == 1.0
    assert got["lbm.up"].value == 0.0
    assert got["lbm.up"].labels == {"error": "permission"}
    assert got["up"].value == 0.0
    assert got["up"].labels == {"error": "permission", "probe": "lbm"}


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (TimeoutError(), "timeout"),
        (ConnectionRefusedError(111, "refused"), "refused"),
        (socket.gaierror(-2, "Name or service not known"), "dns"),
        (ssl.SSLCertVerificationError("bad cert"), "tls"),
        (PermissionError(1, "Operation not permitted"), "permission"),
        (ProbeError("protocol", "bad reply"), "protocol"),
        (OSError(113, "No route to host"), "unreachable"),
        (ValueError("bug"), "internal"),
    ],
)
def test_classify_error(exc: BaseException, kind: str) -> None:
    assert classify_error(exc) == kind


def test_classify_error_follows_the_cause_chain() -> None:
    class ConnectError(Exception):  # the shape of httpx.ConnectError
        pass

    try:
        try:
            raise ssl.SSLCertVerificationError("self-signed")
        except ssl.SSLError as inner:
            raise ConnectError("wrapped") from inner
    except ConnectError as outer:
        assert classify_error(outer) == "tls"
    assert classify_error(ConnectError("no cause")) == "refused"


async def test_guarded_turns_exceptions_into_results() -> None:
    async def boom() -> list[Sample]:
        raise ConnectionRefusedError(111, "refused")

    res = await guarded("udp_echo", boom())
    assert (res.probe, res.error, res.samples) == ("udp_echo", "refused", [])


def test_backoff_step() -> None:
    assert backoff_step(1.0, 0, 30) == 1.0
    assert backoff_step(1.0, 1, 30) == 1.0
    assert [backoff_step(1.0, n, 30) for n in (2, 3, 4, 5, 6, 7)] == [2, 4, 8, 16, 30, 30]
    assert backoff_step(60.0, 5, 30) == 60.0  # never faster than the interval


def test_normalize_bootstrap() -> None:
    assert normalize_bootstrap("kafka://h1:1,kafka://h2:2/") == "h1:1,h2:2"
    assert normalize_bootstrap("127.0.0.1:9092") == "127.0.0.1:9092"
    with pytest.raises(AdapterError):
        normalize_bootstrap("kafka://")


class Healthy(Adapter[EndpointConfig]):
    protocol = "fake"
    probes: dict[str, int] = {}
    enough = asyncio.Event()

    async def collect(self) -> list[ProbeResult]:
        n = Healthy.probes[self.config.id] = Healthy.probes.get(self.config.id, 0) + 1
        if n >= 5:
            Healthy.enough.set()
        return [ProbeResult([Sample("n", float(n))])]


class Refused(Adapter[EndpointConfig]):
    protocol = "fake"

    async def collect(self) -> list[ProbeResult]:
        raise ConnectionRefusedError(111, "Connection refused")


class Hangs(Adapter[EndpointConfig]):
    protocol = "fake"
    cleaned: list[bool] = []

    async def collect(self) -> list[ProbeResult]:
        await asyncio.sleep(3600)
        return []

    async def cleanup(self, failed: bool) -> None:
        Hangs.cleaned.append(failed)


class StartFails(Adapter[EndpointConfig]):
    protocol = "fake"
    starts = 0
    cleaned: list[bool] = []
    twice = asyncio.Event()

    async def start(self) -> None:
        StartFails.starts += 1
        if StartFails.starts >= 2:
            StartFails.twice.set()
        raise ProbeError("auth", "key refused")

    async def collect(self) -> list[ProbeResult]:
        raise AssertionError("collect without a successful start")

    async def cleanup(self, failed: bool) -> None:
        StartFails.cleaned.append(failed)


def spec(cls: type[Adapter[Any]], ep_id: str, interval: float = 0.02) -> EndpointSpec:
    return EndpointSpec(
        adapter_name=cls.__name__,
        adapter_cls=cls,
        config=EndpointConfig(id=ep_id),
        interval_sec=interval,
        timeout_sec=0.05,
        jitter=0.1,
        backoff_max_sec=0.1,
    )


class Sink:
    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes, float]] = []

    async def __call__(self, key: bytes, value: bytes, ts: float) -> None:
        self.records.append((key, value, ts))

    def ups(self, source: str) -> list[dict[str, Any]]:
        out = []
        for key, value, _ in self.records:
            if parse_metric_key(key) == (source, "up"):
                out.append(orjson.loads(value))
        return out


async def test_dead_and_hanging_endpoints_do_not_stall_a_healthy_one() -> None:
    Healthy.probes.clear()
    Healthy.enough = asyncio.Event()
    Hangs.cleaned.clear()
    sink = Sink()
    runner = Runner(
        [spec(Healthy, "ok"), spec(Refused, "dead"), spec(Hangs, "stuck")],
        sink,
        max_concurrency=2,  # fewer slots than endpoints: the hanging one must not hog them
        rng=random.Random(1),
    )
    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(Healthy.enough.wait(), 30)
    runner.stop()
    stats = await asyncio.wait_for(task, 10)

    assert all(u["value"] == 1.0 for u in sink.ups("ok"))
    assert len(sink.ups("ok")) >= 5
    dead = sink.ups("dead")
    assert dead and all(u["value"] == 0.0 and u["labels"]["error"] == "refused" for u in dead)
    stuck = sink.ups("stuck")
    assert stuck and all(u["labels"]["error"] == "timeout" for u in stuck)
    assert stats.records == len(sink.records)
    assert stats.failures >= len(dead) + len(stuck)


async def test_failed_start_is_cleaned_up_and_retried() -> None:
    StartFails.starts = 0
    StartFails.cleaned.clear()
    StartFails.twice = asyncio.Event()
    sink = Sink()
    runner = Runner([spec(StartFails, "s", interval=0.01)], sink)
    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(StartFails.twice.wait(), 30)
    runner.stop()
    await asyncio.wait_for(task, 10)
    assert StartFails.cleaned[:2] == [True, True]
    assert sink.ups("s")[0]["labels"] == {"error": "auth"}


class Stream(Adapter[EndpointConfig]):
    streaming = True
    protocol = "fake"

    async def run(self, publish: Publish) -> None:
        for i in range(3):
            await publish(b"k", str(i).encode(), float(i))


async def test_runner_returns_when_streaming_adapters_finish() -> None:
    sink = Sink()
    stats = await asyncio.wait_for(Runner([spec(Stream, "r")], sink).run(), 10)
    assert [v for _, v, _ in sink.records] == [b"0", b"1", b"2"]
    assert stats.records == 3


async def test_publish_errors_are_counted_not_fatal() -> None:
    calls = 0

    async def flaky(key: bytes, value: bytes, ts: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("broker hiccup")

    stats = await asyncio.wait_for(Runner([spec(Stream, "r")], flaky).run(), 10)
    assert (stats.publish_errors, stats.records) == (1, 2)
