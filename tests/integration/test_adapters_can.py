"""CAN adapter: DBC signals from frames that ``python -m can.player`` sends from another process
over python-can's udp_multicast bus (interface-local IPv6, see peer_can), through Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.canbus import CanAdapter
from padit_stream.schema import Metric, decode_metric
from tests.integration.kafka_run import run_into_kafka
from tests.integration.peer_can import DBC, candump_line, local_group, play

pytestmark = pytest.mark.integration


def engine(rpm: float, temp: float) -> bytes:
    raw = int(rpm / 0.25)
    return bytes([raw & 0xFF, raw >> 8, int(temp + 40)])


def write_log(path: Path) -> dict[str, Any]:
    """300 frames 1 ms apart: engine and battery frames, unknown ids, one error frame and one
    truncated engine frame; returns what they hold, computed here from the inputs."""
    lines, rpms, temps, volts = [], [], [], []
    t = 1_700_000_000.0
    unknown = 0
    for i in range(300):
        t += 0.001
        if i == 150:
            lines.append(candump_line(t, 0, b"", error=True))
        elif i == 151:
            lines.append(candump_line(t, 0x100, b"\x01"))  # 1 byte of 3: does not decode
        elif i % 3 == 0:
            rpm, temp = 800 + i * 10.25, 20 + i % 7
            rpms.append(rpm)
            temps.append(temp)
            lines.append(candump_line(t, 0x100, engine(rpm, temp)))
        elif i % 3 == 1:
            volt = 12 + (i % 50) / 100
            volts.append(volt)
            raw = round(volt * 100)
            lines.append(candump_line(t, 0x200, bytes([raw & 0xFF, raw >> 8])))
        else:
            unknown += 1
            lines.append(candump_line(t, 0x7FF, b"\xde\xad"))
    path.write_text("\n".join(lines) + "\n")
    return {"frames": 300, "rpms": rpms, "temps": temps, "volts": volts, "unknown": unknown}


def latest(samples: list[Metric], metric: str) -> float | None:
    vals = [s.value for s in samples if s.metric_name == metric]
    return vals[-1] if vals else None


async def test_signals_windows_errors_and_silence_through_kafka(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    (tmp_path / "car.dbc").write_text(DBC)
    expect = write_log(tmp_path / "drive.log")
    group = local_group()
    yaml = f"""
        adapters:
          - name: can
            endpoints:
              - id: car
                interface: udp_multicast
                channel: "{group}"
                dbc: car.dbc
                signals:
                  - {{message: Engine, signal: Rpm, metric: engine.rpm}}
                  - {{signal: Voltage}}
                publish_every_sec: 0.2
                aggregates: [mean, min, max, count]
                silence_after_sec: 0.6
    """
    async with run_into_kafka(kafka_bootstrap, tmp_path, yaml) as run:
        await run.wait_for(lambda s: latest(s, "up") is not None, "the bus is open")
        await asyncio.to_thread(play, tmp_path / "drive.log", group)
        await run.wait_for(lambda s: latest(s, "can.frames") == expect["frames"], "every frame")
        n = len(run.samples)
        await run.wait_for(
            lambda s: any(x.metric_name == "up" and x.labels.get("error") == "timeout"
                          for x in s[n:]), "silence after the log ended")  # fmt: skip
    s = run.samples
    counts = [x.value for x in s if x.metric_name == "engine.rpm.count"]
    means = [x.value for x in s if x.metric_name == "engine.rpm.mean"]
    # Windows split the frames anywhere; their aggregates must still add up to the whole.
    assert sum(counts) == len(expect["rpms"])
    assert sum(c * m for c, m in zip(counts, means, strict=True)) == pytest.approx(
        sum(expect["rpms"])
    )
    assert min(x.value for x in s if x.metric_name == "engine.rpm.min") == min(expect["rpms"])
    assert max(x.value for x in s if x.metric_name == "engine.rpm.max") == max(expect["rpms"])
    assert sum(x.value for x in s if x.metric_name == "Battery.Voltage.count") == len(
        expect["volts"]
    )
    assert max(x.value for x in s if x.metric_name == "Battery.Voltage.max") == pytest.approx(
        max(expect["volts"])
    )
    assert not any("Temp" in x.metric_name for x in s)  # not chosen
    [rpm, *_] = [x for x in s if x.metric_name == "engine.rpm.mean"]
    assert (rpm.unit, rpm.protocol, rpm.source_id) == ("rpm", "can", "car")
    assert latest(s, "can.error_frames") == 1
    assert latest(s, "can.decode_errors") == 1
    assert latest(s, "can.unknown_frames") == expect["unknown"]
    errors = [x.labels.get("error") for x in s if x.metric_name == "up" and x.value == 0]
    assert "protocol" in errors and "timeout" in errors
    # At most one value per signal and aggregate per window: 100 engine frames, few records.
    assert len(counts) < len(expect["rpms"]) / 5


@contextlib.asynccontextmanager
async def streaming(adapter: CanAdapter) -> AsyncIterator[list[Metric]]:
    got: list[Metric] = []

    async def publish(key: bytes, value: bytes, ts: float) -> None:
        got.append(decode_metric(value))

    task = asyncio.create_task(adapter.run(publish))
    try:
        yield got
    finally:
        adapter.stop()
        await asyncio.wait_for(task, 10)


async def until(got: list[Metric], n_up: int, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while sum(s.metric_name == "up" for s in got) < n_up:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_bus_that_cannot_open_is_data(tmp_path: Path) -> None:
    (tmp_path / "car.dbc").write_text(DBC)
    ep = CanAdapter.parse_endpoint({
        "id": "car", "interface": "socketcan", "channel": f"nocan{uuid.uuid4().hex[:6]}",
        "dbc": str(tmp_path / "car.dbc"), "reopen_min_sec": 0.1, "reopen_max_sec": 0.2,
    })  # fmt: skip
    async with streaming(CanAdapter(ep)) as got:  # type: ignore[arg-type]
        await until(got, 2)
    ups = [s for s in got if s.metric_name == "up"]
    assert all(s.value == 0 and s.labels["error"] == "unreachable" for s in ups), ups


def _make_vcan() -> str:
    name = f"pvcan{uuid.uuid4().hex[:6]}"
    res = subprocess.run(["ip", "link", "add", "dev", name, "type", "vcan"],
                         capture_output=True, text=True)  # fmt: skip
    if res.returncode != 0:
        pytest.skip(
            f"needs SocketCAN: `ip link add type vcan` fails here ({res.stderr.strip()}); "
            "the udp_multicast tests cover the adapter, this one the socketcan interface"
        )
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    return name


async def test_socketcan_over_vcan(tmp_path: Path) -> None:
    name = _make_vcan()
    try:
        (tmp_path / "car.dbc").write_text(DBC)
        expect = write_log(tmp_path / "drive.log")
        ep = CanAdapter.parse_endpoint({
            "id": "car", "interface": "socketcan", "channel": name,
            "dbc": str(tmp_path / "car.dbc"), "publish_every_sec": 0.2,
            "aggregates": ["count"], "signals": [{"signal": "Rpm"}],
        })  # fmt: skip
        async with streaming(CanAdapter(ep)) as got:  # type: ignore[arg-type]
            await until(got, 1)
            await asyncio.to_thread(play, tmp_path / "drive.log", name, interface="socketcan")
            async with asyncio.timeout(20):
                while latest(got, "can.frames") != expect["frames"]:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        assert sum(s.value for s in got if s.metric_name == "Engine.Rpm") == len(expect["rpms"])
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True)
