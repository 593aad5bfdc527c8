"""Modbus/TCP adapter against a libmodbus server written in C (compiled by the test)."""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import ProbeResult, Sample
from adapters.modbus import ModbusAdapter
from padit_stream.schema import Metric
from tests.integration.kafka_run import run_into_kafka
from tests.integration.peer_modbus import ModbusServer, build_modbus_server
from tests.integration.peers import free_port

pytestmark = pytest.mark.integration


def words(
    fmt: str, value: float, *, swap_words: bool = False, swap_bytes: bool = False
) -> list[int]:
    """How a device lays ``value`` out in 16-bit registers, written from the spec's layouts."""
    raw = struct.pack(fmt, value)
    out = [int.from_bytes(raw[i : i + 2], "little" if swap_bytes else "big")
           for i in range(0, len(raw), 2)]  # fmt: skip
    return out[::-1] if swap_words else out


def table(start: int, ws: list[int], kind: str = "holding") -> dict[tuple[str, int], int]:
    return {(kind, start + i): w for i, w in enumerate(ws)}


VALUES: dict[tuple[str, int], int] = {
    **table(0, words(">f", 20.5)),
    **table(2, words(">f", -3.25, swap_words=True)),
    **table(4, words(">h", -10)),
    **table(5, words(">H", 65000)),
    **table(6, words(">i", -123456)),
    **table(8, words(">I", 3_000_000_000, swap_words=True)),
    **table(10, words(">d", 1234.5678)),
    **table(14, words(">H", 0x1234, swap_bytes=True)),
    **table(20, [7]),
    **table(0, [42], "input"),
    ("coil", 3): 1,
    ("coil", 4): 0,
    ("discrete", 1): 1,
}

REGISTERS: list[dict[str, Any]] = [
    {"name": "temp", "address": 0, "type": "float32", "unit": "C"},
    {"name": "swapped", "address": 2, "type": "float32", "word_order": "little"},
    {"name": "scaled", "address": 4, "type": "int16", "scale": 0.5, "offset": 1},
    {"name": "u16", "address": 5, "type": "uint16"},
    {"name": "i32", "address": 6, "type": "int32"},
    {"name": "u32", "address": 8, "type": "uint32", "word_order": "little"},
    {"name": "f64", "address": 10, "type": "float64"},
    {"name": "bytes_swapped", "address": 14, "byte_order": "little"},
    {"name": "far", "address": 20},
    {"name": "in0", "table": "input", "address": 0},
    {"name": "run", "table": "coil", "address": 3},
    {"name": "stop", "table": "coil", "address": 4},
    {"name": "door", "table": "discrete", "address": 1},
]
EXPECTED = {
    "temp": 20.5, "swapped": -3.25, "scaled": -4.0, "u16": 65000.0, "i32": -123456.0,
    "u32": 3e9, "f64": 1234.5678, "bytes_swapped": float(0x1234), "far": 7.0, "in0": 42.0,
    "run": 1.0, "stop": 0.0, "door": 1.0,
}  # fmt: skip


@pytest.fixture(scope="module")
def server_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return build_modbus_server(tmp_path_factory.mktemp("modbus"))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def server(server_exe: Path) -> Iterator[ModbusServer]:
    with ModbusServer(server_exe, VALUES) as srv:
        yield srv


def test_mbpoll_reads_the_peer_as_the_spec_lays_it_out(server: ModbusServer) -> None:
    if shutil.which("mbpoll") is None:
        pytest.skip("mbpoll not installed; run scripts/install-peers.sh")
    out = subprocess.run(
        ["mbpoll", "-m", "tcp", "-a", "1", "-t", "4:float", "-B", "-r", "1", "-c", "1", "-1",
         "-p", str(server.port), "127.0.0.1"],
        capture_output=True, text=True, timeout=20, check=True,
    ).stdout  # fmt: skip
    assert "[1]: \t20.5" in out or "[1]: 20.5" in out, out


def adapter(port: int, registers: list[dict[str, Any]], **kw: Any) -> ModbusAdapter:
    ep = ModbusAdapter.parse_endpoint(
        {"id": "plc", "host": "127.0.0.1", "port": port, "registers": registers, **kw}
    )
    return ModbusAdapter(ep)  # type: ignore[arg-type]


def by_name(results: list[ProbeResult]) -> dict[str, Sample]:
    return {s.metric_name: s for r in results for s in r.samples}


async def test_every_type_and_order_in_four_requests(server: ModbusServer) -> None:
    a = adapter(server.port, REGISTERS, max_gap=8)
    try:
        results = await a.collect()
        got = by_name(results)
        assert all(r.ok for r in results), [r.detail for r in results]
        assert {k: got[k].value for k in EXPECTED} == pytest.approx(EXPECTED)
        assert got["temp"].unit == "C"
        # holding 0..20 (gap of 5 within max_gap 8), input, coils 3..4, discrete: 4 requests.
        assert sorted(server.wait_requests(4)) == [
            (1, 1, 3, 2), (1, 2, 1, 1), (1, 3, 0, 21), (1, 4, 0, 1),
        ]  # fmt: skip
        assert got["modbus.requests"].value == 4
        await a.collect()
        assert len(server.wait_requests(8)) == 8
    finally:
        await a.cleanup(False)


async def test_device_that_never_answers_is_a_timeout(server: ModbusServer) -> None:
    regs = [{"name": "x", "address": 0, "unit_id": 99}, {"name": "y", "address": 5}]
    a = adapter(server.port, regs, timeout_sec=0.5)
    try:
        results = await a.collect()
    finally:
        await a.cleanup(False)
    failed = [r for r in results if not r.ok]
    assert [r.error for r in failed] == ["timeout"]
    err = by_name(failed)["modbus.read_error"]
    assert err.labels["unit_id"] == "99" and err.labels["error"] == "timeout"
    assert (99, 3, 0, 1) in server.wait_requests(2)
    # The device behind unit 1 still answered.
    assert by_name(results)["y"].value == 65000


async def test_nothing_listening_is_refused() -> None:
    a = adapter(free_port(), [{"name": "x", "address": 0}], timeout_sec=1)
    try:
        with pytest.raises(Exception) as info:
            await a.collect()
    finally:
        await a.cleanup(True)
    from adapters.base import classify_error

    assert classify_error(info.value) == "refused"


def values(samples: list[Metric], metric: str) -> list[float]:
    return [s.value for s in samples if s.metric_name == metric]


async def test_exceptions_become_data_through_kafka(
    kafka_bootstrap: str, server: ModbusServer, tmp_path: Path
) -> None:
    regs = "\n".join(f"                  - {r}" for r in [
        {"name": "temp", "address": 0, "type": "float32"},
        {"name": "beyond", "address": 70},  # the server maps 64 registers: exception 2
    ]).replace("'", '"')  # fmt: skip
    yaml = f"""
        adapters:
          - name: modbus
            interval_sec: 0.3
            endpoints:
              - id: plc
                host: 127.0.0.1
                port: {server.port}
                labels: {{line: "2"}}
                registers:
{regs}
    """
    async with run_into_kafka(kafka_bootstrap, tmp_path, yaml) as run:
        await run.wait_for(lambda s: len(values(s, "up")) >= 2, "two probes")
    s = run.samples
    assert values(s, "temp")[:2] == [20.5, 20.5]
    [up, *_] = [x for x in s if x.metric_name == "up"]
    assert (up.value, up.labels) == (0.0, {"line": "2", "error": "protocol"})
    [err, *_] = [x for x in s if x.metric_name == "modbus.read_error"]
    assert err.labels == {"line": "2", "unit_id": "1", "table": "holding", "address": "70",
                          "count": "1", "error": "protocol", "exception": "2"}  # fmt: skip
    assert err.protocol == "modbus"
