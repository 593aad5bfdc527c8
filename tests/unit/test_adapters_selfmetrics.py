"""The adapters' own metrics as the runner counts them (in-memory adapters, no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.base import Adapter, EndpointConfig, ProbeResult, Publish
from adapters.config import EndpointSpec
from adapters.errors import AdapterError, ProbeError
from adapters.runner import Runner
from adapters.selfmetrics import AdapterMetrics, parse_listen
from adapters.stream import RecordEmitter


class Flaky(Adapter[EndpointConfig]):
    """Fails every other probe with a timeout."""

    protocol = "test"

    def __init__(self, config: EndpointConfig) -> None:
        super().__init__(config)
        self.n = 0

    async def collect(self) -> list[ProbeResult]:
        self.n += 1
        if self.n % 2 == 0:
            raise ProbeError("timeout", "slow")
        return [ProbeResult()]


class Streamer(Adapter[EndpointConfig]):
    protocol = "test"
    streaming = True

    async def run(self, publish: Publish) -> None:
        em = RecordEmitter(publish, source_id="s", protocol="test", labels={}, on_up=self.on_up)
        await em.up(True)
        await em.up(False, "refused")


def spec(cls: type[Adapter[Any]], name: str, ep: str) -> EndpointSpec:
    return EndpointSpec(name, cls, EndpointConfig(id=ep), 0.01, 1.0, 0.0, 0.01)


def value(m: AdapterMetrics, name: str, **labels: str) -> float:
    return m.registry.get_sample_value(name, labels) or 0.0


async def test_outcomes_durations_records_and_publish_errors() -> None:
    metrics = AdapterMetrics()
    sent = 0

    async def publish(key: bytes, value: bytes, ts: float) -> None:
        nonlocal sent
        sent += 1
        if sent % 3 == 0:
            raise RuntimeError("broker said no")

    runner = Runner([spec(Flaky, "flaky", "f"), spec(Streamer, "stream", "s")], publish,
                    metrics=metrics)  # fmt: skip
    task = asyncio.create_task(runner.run())
    timeouts = {"adapter": "flaky", "endpoint": "f", "outcome": "timeout"}
    while value(metrics, "padit_adapter_probes_total", **timeouts) < 3:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    runner.stop()
    await task
    ok = value(metrics, "padit_adapter_probes_total", adapter="flaky", endpoint="f", outcome="ok")
    bad = value(metrics, "padit_adapter_probes_total", adapter="flaky", endpoint="f",
                outcome="timeout")  # fmt: skip
    assert abs(ok - bad) <= 1 and ok + bad == runner.stats.probes
    assert value(metrics, "padit_adapter_probe_duration_seconds_count",
                 adapter="flaky", endpoint="f") == ok + bad  # fmt: skip
    assert value(metrics, "padit_adapter_probes_total", adapter="stream", endpoint="s",
                 outcome="refused") == 1  # fmt: skip
    assert value(metrics, "padit_adapter_publish_errors_total") == runner.stats.publish_errors > 0
    assert (
        value(metrics, "padit_adapter_records_total") == runner.stats.records == sent - (sent // 3)
    )


@pytest.mark.parametrize("bad", ["9465", "host:port", "127.0.0.1:70000"])
def test_bad_listen_address(bad: str) -> None:
    with pytest.raises(AdapterError, match="expected HOST:PORT or off"):
        parse_listen(bad)
